"""flash_attn.fa3: FlashAttention-3 through its Python package (see _flash_attn.py)."""
import _flash_attn

_flash_attn.bind(globals(), 3)
