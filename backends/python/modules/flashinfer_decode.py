"""flashinfer.decode: FlashInfer's batch decode over a paged K/V cache (see _flashinfer.py)."""
import _flashinfer
import _torch_common as tc

tc.export(globals(), _flashinfer.Decode())
