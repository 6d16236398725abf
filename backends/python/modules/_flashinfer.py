"""FlashInfer through its Python API: the block-sparse wrapper (any mask as BSR blocks) and batch decode."""
import math

import numpy as np

import _torch_common as tc
from _torch_common import torch

_WORKSPACE_BYTES = 128 << 20  # FlashInfer's recommended float workspace


def _import():
    """The flashinfer module, or the reason it cannot be used."""
    try:
        import flashinfer
        return flashinfer
    except Exception as e:
        return "flashinfer is not importable (%s: %s)" % (type(e).__name__, e)


def common_reason(case):
    """Why FlashInfer cannot run this case at all (None: it may)."""
    why = tc.missing()
    if why:
        return why
    fi = _import()
    if isinstance(fi, str):
        return fi
    if case["device"] != "cuda":
        return "FlashInfer runs only on CUDA (torch sees no GPU)"
    if case["pass"] != "fwd":
        return "FlashInfer's wrappers are forward-only (no backward)"
    return None


def bsr_block(case):
    """The largest of 128/64/32/16 dividing both sequence lengths (BSR needs whole blocks), else None."""
    for b in (128, 64, 32, 16):
        if case["seqlen_q"] % b == 0 and case["seqlen_k"] % b == 0:
            return b
    return None


def bsr_of(mask, block):
    """(indptr [MB+1], indices [nnz], partial-tile mask [nnz, R, C] or None) from the mask library's block map."""
    kinds = mask.block_map(block, block)["kinds"]
    rows, cols = np.nonzero(kinds > 0)  # row-major: indices sorted by row, then column
    indptr = np.zeros(kinds.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=kinds.shape[0]), out=indptr[1:])
    indices = cols.astype(np.int32)
    if (kinds[kinds > 0] == 2).all():
        return indptr, indices, None
    # Only the stored tiles' bits (the lengths are whole blocks: bsr_block), not the whole Sq x Sk mask.
    tiles = np.stack([mask.fill_tile(int(r) * block, block, int(c) * block, block) for r, c in zip(rows, cols)])
    return indptr, indices, tiles


class _ForwardOnly:
    """What both wrappers share: bf16/fp16, forward only, and the common reasons before their own."""

    def describe(self):
        return tc.describe(self.name, self.DESCRIPTION, dtypes=("bf16", "fp16"), passes=["fwd"])

    def supports(self, case):
        return common_reason(case) or self.reason(case) or True

    def backward(self, st):
        raise NotImplementedError("FlashInfer's wrappers are forward-only")


class BlockSparse(_ForwardOnly):
    """flashinfer.sparse.BlockSparseAttentionWrapper: the mask as block rows, partial blocks with their bits."""

    name = "flashinfer.block_sparse"
    DESCRIPTION = ("FlashInfer BlockSparseAttentionWrapper: any mask as BSR blocks of the block map "
                   "(partial blocks carry their mask); forward only")

    def reason(self, case):
        if bsr_block(case) is None:
            return "FlashInfer's BSR layout needs seqlens divisible by a block of 16..128 (got %d x %d)" % (
                case["seqlen_q"], case["seqlen_k"])
        return None

    def prepare(self, case, q, k, v, dout, mask):
        import flashinfer.sparse
        dev = case["device"]
        block = bsr_block(case)
        indptr, indices, tiles = bsr_of(mask, block)
        ws = torch.empty(_WORKSPACE_BYTES, dtype=torch.uint8, device=dev)
        wrapper = flashinfer.sparse.BlockSparseAttentionWrapper(ws)
        dtype = tc.torch_dtype(case["dtype"])
        wrapper.plan(torch.from_numpy(indptr).to(dev), torch.from_numpy(indices).to(dev),
                     case["seqlen_q"], case["seqlen_k"], block, block,
                     case["heads_q"], case["heads_kv"], case["head_dim"],
                     mask=None if tiles is None else torch.from_numpy(tiles.reshape(-1)).to(dev),
                     sm_scale=case["softmax_scale"], q_data_type=dtype)
        # One sequence per plan: batch entries run one after another ([S, H, D] NHD each).
        st = {n: tc.upload(x, case, transpose=False) for n, x in (("q", q), ("k", k), ("v", v))}
        st["wrapper"] = wrapper
        return st

    def forward(self, st):
        outs, lses = [], []
        for b in range(st["q"].shape[0]):
            o, lse = st["wrapper"].run(st["q"][b], st["k"][b], st["v"][b], return_lse=True)
            outs.append(o)
            lses.append(lse)
        # FlashInfer's LSE is base 2, [S, H]: natural log, [B, H, S] when read.
        lse = torch.stack(lses).transpose(1, 2) * math.log(2.0)
        return torch.stack(outs), lse


class Decode(_ForwardOnly):
    """flashinfer.BatchDecodeWithPagedKVCacheWrapper: one query token per sequence against its K/V pages."""

    name = "flashinfer.decode"
    DESCRIPTION = ("FlashInfer batch decode over a paged K/V cache (seqlen_q = 1, full or causal: "
                   "the same for one query row); forward only")
    PAGE = 16

    def reason(self, case):
        if case["seqlen_q"] != 1:
            return "flashinfer.decode serves decode shapes only (seqlen_q = 1, got %d)" % case["seqlen_q"]
        if case["mask"] not in ("full", "causal"):
            return "flashinfer.decode takes full or causal masks (one query row sees every key)"
        return None

    def prepare(self, case, q, k, v, dout, mask):
        import flashinfer
        dev = case["device"]
        b, sk, hkv, d = case["batch"], case["seqlen_k"], case["heads_kv"], case["head_dim"]
        dtype = tc.torch_dtype(case["dtype"])
        pages = -(-sk // self.PAGE)
        # [B * pages, PAGE, Hkv, D] per K and V (NHD), the tail of each sequence's last page unused.
        cache = {}
        for n, x in (("k", k), ("v", v)):
            t = torch.zeros(b, pages * self.PAGE, hkv, d, dtype=dtype, device=dev)
            t[:, :sk] = tc.upload(x, case, transpose=False)
            cache[n] = t.reshape(b * pages, self.PAGE, hkv, d)
        ws = torch.empty(_WORKSPACE_BYTES, dtype=torch.uint8, device=dev)
        wrapper = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
        indptr = torch.arange(0, (b + 1) * pages, pages, dtype=torch.int32, device=dev)
        indices = torch.arange(b * pages, dtype=torch.int32, device=dev)
        last = torch.full((b,), sk - (pages - 1) * self.PAGE, dtype=torch.int32, device=dev)
        wrapper.plan(indptr, indices, last, case["heads_q"], hkv, d, self.PAGE, sm_scale=case["softmax_scale"],
                     q_data_type=dtype, kv_data_type=dtype)
        return {"wrapper": wrapper, "q": tc.upload(q, case, transpose=False)[:, 0], "cache": (cache["k"], cache["v"])}

    def forward(self, st):
        o, lse = st["wrapper"].run(st["q"], st["cache"], return_lse=True)  # [B, Hq, D], [B, Hq] (base 2)
        return o[:, None], (lse * math.log(2.0))[:, :, None]
