"""torch.flex: PyTorch FlexAttention with a BlockMask built from the mask library's block map and dense predicate."""
import os
import warnings

import numpy as np

import _head_masks
import _torch_common as tc
from _torch_common import torch

BLOCK = 128  # FlexAttention's default tile; the block map is built for the same tiles

# Uncompiled is deliberate off CUDA (see prepare): torch's "called without torch.compile()" advice is noise here.
warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")


def describe():
    return tc.describe("torch.flex", "PyTorch FlexAttention: BlockMask from the block map, "
                       "dense mask_mod, compiled in prepare on CUDA (uncompiled, forward only, on the CPU)",
                       head_dim_multiple=8, head_masks=True)


def supports(case):
    why = tc.missing()
    if why:
        return why
    if tc.version() < (2, 5):
        return "FlexAttention with return_lse needs torch >= 2.5 (found %s)" % torch.__version__
    if case["pass"] != "fwd":
        why = _backward_unavailable(case["device"])
        if why:
            return why
    return True


_NO_BACKWARD = {}


def _backward_unavailable(dev):
    """None when this torch has a FlexAttention backward on the device, else why not (asked once per device).

    PyTorch 2.11 has none on the CPU: flex_attention refuses inputs that require grad there.
    """
    if dev == "cuda":
        return None
    if dev not in _NO_BACKWARD:
        from torch.nn.attention.flex_attention import flex_attention

        x = torch.zeros(1, 1, 16, 16, device=dev, requires_grad=True)
        try:
            flex_attention(x, x, x)
            _NO_BACKWARD[dev] = None
        except NotImplementedError as e:
            _NO_BACKWARD[dev] = "torch %s: %s" % (torch.__version__, str(e).split(".")[0])
    return _NO_BACKWARD[dev]


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


def _from_kv_blocks(tables, sq, sk, mask_mod):
    """BlockMask.from_kv_blocks over BLOCK x BLOCK tiles, with the sequence lengths where this torch takes them."""
    from torch.nn.attention.flex_attention import BlockMask

    kwargs = dict(BLOCK_SIZE=(BLOCK, BLOCK), mask_mod=mask_mod)
    try:
        return BlockMask.from_kv_blocks(*tables, seq_lengths=(sq, sk), **kwargs)
    except TypeError:  # torch 2.5: no seq_lengths
        return BlockMask.from_kv_blocks(*tables, **kwargs)


def _block_mask(case, mask):
    """BlockMask.from_kv_blocks over BLOCK x BLOCK tiles: partial tiles evaluate the mask_mod, full tiles skip it."""
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

    return _from_kv_blocks((partial_n, partial_idx, full_n, full_idx), sq, sk, mask_mod)


def head_mask_tiles(views, block):
    """NumPy pieces of one BlockMask for several distinct masks (masks per (b, h)).

    Returns (tables, tile_of, bits): tables[i] is kv_block_tables() of mask i's block map;
    tile_of (int32 [N, QT, KT]) names each tile's bits in bits (bool [T, block, block]):
    0 an empty tile, 1 a full one, 2+ the bits of a partial tile, or of a non-empty tile past
    the end of the sequence (padded with False there). Only partial tiles hold their own bits,
    so the memory follows the tiles a mask_mod really evaluates, not B*Hq*Sq*Sk.
    """
    tables, tile_of, tiles = [], [], []
    for m in views:
        kinds = m.block_map(block, block)["kinds"]
        tables.append(kv_block_tables(kinds))
        sq, sk = m.seqlen_q, m.seqlen_k
        own = kinds == 1
        if sq % block:
            own[-1] |= kinds[-1] == 2
        if sk % block:
            own[:, -1] |= kinds[:, -1] == 2
        t = np.where(kinds == 2, 1, 0).astype(np.int32)
        for qt, kt in zip(*np.nonzero(own)):
            q0, k0 = int(qt) * block, int(kt) * block
            nq, nk = min(block, sq - q0), min(block, sk - k0)
            t[qt, kt] = 2 + len(tiles)
            tiles.append((m, q0, nq, k0, nk))
        tile_of.append(t)
    need = (2 + len(tiles)) * block * block
    if need > _head_masks.DENSE_LIMIT_BYTES:
        raise MemoryError("torch.flex: the partial tiles of the masks per (batch, head) need %d MiB "
                          "(limit %d MiB)" % (need >> 20, _head_masks.DENSE_LIMIT_BYTES >> 20))
    bits = np.zeros((2 + len(tiles), block, block), dtype=bool)
    bits[1] = True
    for i, (m, q0, nq, k0, nk) in enumerate(tiles):
        bits[2 + i, :nq, :nk] = m.fill_tile(q0, nq, k0, nk)
    return tables, np.stack(tile_of), bits


def _head_block_mask(case):
    """A BlockMask with B and Hq dimensions: each (b, h) gets its own mask's tables and mask_mod bits."""
    views, index = _head_masks.distinct(case)
    tables, tile_of, bits = head_mask_tiles(views, BLOCK)
    dev = case["device"]
    # [N, QT] / [N, QT, KT] per distinct mask, then [B, Hq, QT] / [B, Hq, QT, KT] by index[b, h].
    partial_n, partial_idx, full_n, full_idx = (
        torch.from_numpy(np.ascontiguousarray(np.stack([t[i] for t in tables])[index])).to(dev)
        for i in range(4))
    which = torch.from_numpy(index).to(dev)
    tile_of_t, bits_t = torch.from_numpy(tile_of).to(dev), torch.from_numpy(bits).to(dev)

    def mask_mod(b, h, q_idx, kv_idx):
        tile = tile_of_t[which[b, h], q_idx // BLOCK, kv_idx // BLOCK]
        return bits_t[tile, q_idx % BLOCK, kv_idx % BLOCK]

    return _from_kv_blocks((partial_n, partial_idx, full_n, full_idx), case["seqlen_q"], case["seqlen_k"], mask_mod)


def _lse_request():
    """Asks for the LSE the way this torch wants: return_aux=AuxRequest(lse=True) where it exists
    (return_lse is deprecated there), else return_lse=True (torch 2.5 to 2.8)."""
    try:
        from torch.nn.attention.flex_attention import AuxRequest
    except ImportError:
        return {"return_lse": True}
    return {"return_aux": AuxRequest(lse=True)}


_COMPILED = []


def _compiled():
    """One compiled flex_attention for the whole sweep.

    Every case brings new shapes and a new mask_mod, so dynamo recompiles per case;
    past its cache limit it would silently fall back to eager and time the wrong
    thing, hence the raised limits (_raise_recompile_limits).
    """
    if not _COMPILED:
        import torch._inductor.config
        from torch.nn.attention.flex_attention import flex_attention

        # Compile in this process: inductor's worker pool runs sys.executable, which in an
        # embedded interpreter is whatever python3 PATH finds (maybe another version, or one
        # that would inherit the bridge's PYTHONHOME). TORCHINDUCTOR_COMPILE_THREADS overrides.
        if "TORCHINDUCTOR_COMPILE_THREADS" not in os.environ:
            torch._inductor.config.compile_threads = 1
        _COMPILED.append(torch.compile(flex_attention, dynamic=False))
    return _COMPILED[0]


def _raise_recompile_limits():
    """Uncompiled flex_attention is traced by dynamo too (backend "eager"), with the same per-case recompiles."""
    import torch._dynamo

    for key in ("cache_size_limit", "accumulated_cache_size_limit", "recompile_limit"):
        if hasattr(torch._dynamo.config, key):
            setattr(torch._dynamo.config, key, max(getattr(torch._dynamo.config, key), 4096))


def prepare(case, q, k, v, dout, mask):
    from torch.nn.attention.flex_attention import flex_attention

    grad = case["pass"] != "fwd"
    st = {
        "q": tc.upload(q, case, requires_grad=grad),
        "k": tc.upload(k, case, requires_grad=grad),
        "v": tc.upload(v, case, requires_grad=grad),
        "heads_kv": case["heads_kv"],
        "grad": grad,
        "block_mask": (_head_block_mask(case) if _head_masks.masks(case) is not None
                       else _block_mask(case, mask)),
        "kwargs": dict(_lse_request(), scale=case["softmax_scale"], enable_gqa=case["heads_q"] != case["heads_kv"]),
    }
    if dout is not None:
        st["do"] = tc.upload(dout, case)
    # Compiled on CUDA (the fast path; ATTNBENCH_FLEX_COMPILE=0 turns it off to debug), uncompiled
    # elsewhere: PyTorch's unfused implementation, which checks the BlockMask and the LSE but is no
    # speed. (torch 2.11's compiled CPU Flex is inference only and returns no LSE.) Compilation
    # happens in the warm-up call below, outside the timed region.
    _raise_recompile_limits()
    compile_it = case["device"] == "cuda" and os.environ.get("ATTNBENCH_FLEX_COMPILE") != "0"
    st["fn"] = _compiled() if compile_it else flex_attention
    _forward(st)
    if grad:
        tc.autograd_backward(st)
    return st


def _forward(st):
    with torch.set_grad_enabled(st["grad"]):
        o, aux = st["fn"](st["q"], st["k"], st["v"], block_mask=st["block_mask"], **st["kwargs"])
    lse = aux if isinstance(aux, torch.Tensor) else aux.lse  # return_lse: the tensor; return_aux: AuxOutput
    st["o"], st["lse"] = o, lse
    return o, lse


def forward(st):
    o, lse = _forward(st)
    return tc.to_bshd(o), lse  # lse: [B, Hq, Sq], natural log


def backward(st):
    return tc.grads_bshd(st, *tc.autograd_backward(st))
