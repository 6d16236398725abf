"""flashinfer.block_sparse: FlashInfer's block-sparse attention with the mask library's block map (see _flashinfer.py)."""
import _flashinfer
import _torch_common as tc

tc.export(globals(), _flashinfer.BlockSparse())
