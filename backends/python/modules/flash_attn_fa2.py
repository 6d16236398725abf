"""flash_attn.fa2: FlashAttention-2 through its Python package (see _flash_attn.py)."""
import _flash_attn

_flash_attn.bind(globals(), 2)
