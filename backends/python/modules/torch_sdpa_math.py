"""torch.sdpa_math: PyTorch scaled_dot_product_attention with the math backend forced (see _torch_sdpa.py)."""
import _torch_sdpa

_torch_sdpa.bind(globals(), "math")
