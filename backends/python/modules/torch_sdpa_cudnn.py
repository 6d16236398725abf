"""torch.sdpa_cudnn: PyTorch scaled_dot_product_attention with the cudnn backend forced (see _torch_sdpa.py)."""
import _torch_sdpa

_torch_sdpa.bind(globals(), "cudnn")
