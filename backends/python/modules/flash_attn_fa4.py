"""flash_attn.fa4: FlashAttention-4 (flash_attn.cute, the CuTe-DSL package flash-attn-4) through _flash_attn.py."""
import _flash_attn

_flash_attn.bind(globals(), 4)
