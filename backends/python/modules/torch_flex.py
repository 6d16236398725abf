"""torch.flex: PyTorch FlexAttention with a BlockMask built from the mask library's block map and dense predicate."""
import numpy as np

import _torch_common as tc
from _torch_common import torch

BLOCK = 128  # FlexAttention's default tile; the block map is built for the same tiles


def describe():
    return tc.describe("torch.flex", "PyTorch FlexAttention: BlockMask from the block map, "
                       "dense mask_mod, compiled in prepare on CUDA", head_dim_multiple=8)


def supports(case):
    why = tc.missing()
    if why:
        return why
    if tc.version() < (2, 5):
        return "FlexAttention with return_lse needs torch >= 2.5 (found %s)" % torch.__version__
    return True


def kv_block_tables(kinds):
    """The tables of BlockMask.from_kv_blocks from the block map's tile kinds (0 empty, 1 partial, 2 full).

    Returns int32 (partial_count [QT], partial_indices [QT, KT], full_count, full_indices):
    row t lists its partial (resp. full) key tiles first, in increasing order.
    """
    tables = []
    for kind in (1, 2):
        select = kinds == kind
        tables.append(select.sum(axis=1).astype(np.int32))
        tables.append(np.argsort(~select, axis=1, kind="stable").astype(np.int32))  # stable: selected first, in order
    return tuple(tables)


def _block_mask(case, mask):
    """BlockMask.from_kv_blocks over BLOCK x BLOCK tiles: partial tiles evaluate the mask_mod, full tiles skip it."""
    from torch.nn.attention.flex_attention import BlockMask

    bm = mask.block_map(BLOCK, BLOCK)
    kinds = bm["kinds"]
    if (kinds == 2).all():
        return None  # every tile full: no mask at all
    dev = case["device"]
    partial_n, partial_idx, full_n, full_idx = (torch.from_numpy(t)[None, None].to(dev)
                                                for t in kv_block_tables(kinds))
    # The dense predicate, padded to whole tiles so the mask_mod never reads past the end.
    sq, sk = case["seqlen_q"], case["seqlen_k"]
    padded = np.zeros((bm["q_tiles"] * BLOCK, bm["k_tiles"] * BLOCK), dtype=bool)
    padded[:sq, :sk] = mask.dense()
    allowed = torch.from_numpy(padded).to(dev)

    def mask_mod(b, h, q_idx, kv_idx):
        return allowed[q_idx, kv_idx]

    kwargs = dict(BLOCK_SIZE=(BLOCK, BLOCK), mask_mod=mask_mod)
    try:
        return BlockMask.from_kv_blocks(partial_n, partial_idx, full_n, full_idx, seq_lengths=(sq, sk), **kwargs)
    except TypeError:  # torch 2.5: no seq_lengths
        return BlockMask.from_kv_blocks(partial_n, partial_idx, full_n, full_idx, **kwargs)


_COMPILED = []


def _compiled():
    """One compiled flex_attention for the whole sweep.

    Every case brings new shapes and a new mask_mod, so dynamo recompiles per case;
    past its cache limit it would silently fall back to eager and time the wrong
    thing, hence the raised limits.
    """
    if not _COMPILED:
        from torch.nn.attention.flex_attention import flex_attention

        import torch._dynamo
        for key in ("cache_size_limit", "accumulated_cache_size_limit", "recompile_limit"):
            if hasattr(torch._dynamo.config, key):
                setattr(torch._dynamo.config, key, max(getattr(torch._dynamo.config, key), 4096))
        _COMPILED.append(torch.compile(flex_attention, dynamic=False))
    return _COMPILED[0]


def prepare(case, q, k, v, dout, mask):
    from torch.nn.attention.flex_attention import flex_attention

    grad = case["pass"] != "fwd"
    st = {
        "q": tc.upload(q, case, requires_grad=grad),
        "k": tc.upload(k, case, requires_grad=grad),
        "v": tc.upload(v, case, requires_grad=grad),
        "heads_kv": case["heads_kv"],
        "grad": grad,
        "block_mask": _block_mask(case, mask),
        "kwargs": {"scale": case["softmax_scale"], "enable_gqa": case["heads_q"] != case["heads_kv"],
                   "return_lse": True},
    }
    if dout is not None:
        st["do"] = tc.upload(dout, case)
    # Compiled on CUDA (the fast path); eager elsewhere. Compilation happens in the
    # warm-up call below, outside the timed region.
    st["fn"] = _compiled() if case["device"] == "cuda" else flex_attention
    _forward(st)
    if grad:
        tc.autograd_backward(st)
    return st


def _forward(st):
    with torch.set_grad_enabled(st["grad"]):
        o, lse = st["fn"](st["q"], st["k"], st["v"], block_mask=st["block_mask"], **st["kwargs"])
    st["o"], st["lse"] = o, lse
    return o, lse


def forward(st):
    o, lse = _forward(st)
    return tc.to_bshd(o), lse  # lse: [B, Hq, Sq], natural log


def backward(st):
    return tc.grads_bshd(st, *tc.autograd_backward(st))
