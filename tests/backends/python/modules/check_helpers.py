"""Checks of the shipped modules' pure-NumPy pieces (no torch needed), called by test_python_bridge."""
import numpy as np

import _flash_attn
import _flashinfer
import _head_masks
import _torch_common
import torch_flex
import torch_sdpa_flash


def flex_tables_rebuild_the_block_map(mask, bq, bk):
    """The BlockMask tables list exactly the partial and full tiles of the block map, in increasing order."""
    bm = mask.block_map(bq, bk)
    kinds = bm["kinds"]
    assert kinds.shape == (bm["q_tiles"], bm["k_tiles"]), kinds.shape
    pc, pi, fc, fi = torch_flex.kv_block_tables(kinds)
    for arr in (pc, pi, fc, fi):
        assert arr.dtype == np.int32, arr.dtype
    rebuilt = np.zeros_like(kinds)
    for kind, count, idx in ((1, pc, pi), (2, fc, fi)):
        for t in range(kinds.shape[0]):
            cols = idx[t, :count[t]]
            assert (np.diff(cols) > 0).all(), (t, cols)
            rebuilt[t, cols] = kind
    assert (rebuilt == kinds).all(), (rebuilt, kinds)
    # The block map agrees with the dense mask: empty tiles hold nothing, full tiles everything.
    dense = mask.dense()
    for t in range(kinds.shape[0]):
        for u in range(kinds.shape[1]):
            tile = dense[t * bq:(t + 1) * bq, u * bk:(u + 1) * bk]
            want = 0 if not tile.any() else (2 if tile.all() else 1)
            assert kinds[t, u] == want, (t, u, kinds[t, u], want)
    return int(pc.sum() + fc.sum())


def flex_head_tiles_rebuild_the_masks(views, block):
    """torch_flex.head_mask_tiles: each mask's tables rebuild its block map and its tile lookup rebuilds
    dense() at every (q, k) (edge tiles included). Returns the number of tiles with bits of their own."""
    tables, tile_of, bits = torch_flex.head_mask_tiles(views, block)
    assert tile_of.dtype == np.int32 and bits.dtype == bool, (tile_of.dtype, bits.dtype)
    assert len(tables) == len(views) and tile_of.shape[0] == len(views)
    assert not bits[0].any() and bits[1].all()  # the shared empty and full tiles
    for m, (pc, pi, fc, fi), lookup in zip(views, tables, tile_of):
        kinds = m.block_map(block, block)["kinds"]
        assert lookup.shape == kinds.shape, (lookup.shape, kinds.shape)
        assert ((lookup == 0) == (kinds == 0)).all(), "empty tiles must map to the empty bits"
        for t in range(kinds.shape[0]):
            assert (np.sort(pi[t, :pc[t]]) == np.nonzero(kinds[t] == 1)[0]).all()
            assert (np.sort(fi[t, :fc[t]]) == np.nonzero(kinds[t] == 2)[0]).all()
        q = np.arange(m.seqlen_q)[:, None]
        k = np.arange(m.seqlen_k)[None, :]
        rebuilt = bits[lookup[q // block, k // block], q % block, k % block]  # what mask_mod computes
        assert (rebuilt == m.dense()).all(), "the tile lookup does not rebuild the mask"
    return int(bits.shape[0] - 2)


def head_mask_layouts(a, b):
    """_head_masks: distinct masks and their index, the axes they vary along, and the dense stack."""
    base = {"batch": 2, "heads_q": 3, "seqlen_q": a.seqlen_q, "seqlen_k": a.seqlen_k, "mask_view": a}
    uniform = dict(base, head_masks=None)
    assert _head_masks.spans(uniform) == (1, 1) and _head_masks.dense_stack(uniform).shape == (a.seqlen_q, a.seqlen_k)
    by_batch = dict(base, head_masks=[a, a, a, b, b, b])
    views, index = _head_masks.distinct(by_batch)
    assert views == [a, b] and index.tolist() == [[0, 0, 0], [1, 1, 1]], (views, index)
    assert _head_masks.spans(by_batch) == (2, 1)
    stack = _head_masks.dense_stack(by_batch)
    assert stack.shape == (2, 1, a.seqlen_q, a.seqlen_k), stack.shape
    assert (stack[0, 0] == a.dense()).all() and (stack[1, 0] == b.dense()).all()
    by_head = dict(base, head_masks=[a, b, a, a, b, a])
    assert _head_masks.spans(by_head) == (1, 3)
    assert (_head_masks.dense_stack(by_head)[0, 1] == b.dense()).all()
    both = dict(base, head_masks=[a, b, a, b, a, a])
    assert _head_masks.spans(both) == (2, 3)
    # One mask everywhere: the harness asking about a selector before selecting, worst case counted.
    probe = dict(base, head_masks=[a] * 6)
    assert _head_masks.spans(probe) == (2, 3)
    assert _head_masks.dense_bytes(probe) == 6 * a.seqlen_q * a.seqlen_k
    big = dict(probe, seqlen_q=1 << 14, seqlen_k=1 << 14)
    why = _head_masks.dense_refusal(big, "SDPA math")
    assert why is not None and "1536 MiB (limit 1024 MiB)" in why and "[2, 3, 16384, 16384]" in why, why
    assert _head_masks.dense_refusal(by_batch, "SDPA math") is None
    return True


def flash_cu_seqlens_repeat_per_batch():
    got = _flash_attn.batch_cu_seqlens([0, 40, 47, 96], 2, 96).tolist()
    assert got == [0, 40, 47, 96, 136, 143, 192], got
    return True


def flash_windows():
    case = {"mask": "causal", "mask_params": {}, "seqlen_q": 64, "seqlen_k": 64}
    assert _flash_attn.window_of(case) == (-1, 0)
    case.update(mask="causal_sliding_window", mask_params={"window": 9})
    assert _flash_attn.window_of(case) == (9, 0)
    case.update(mask="sliding_window")
    assert _flash_attn.window_of(case) == (9, 9)
    case.update(seqlen_k=80)
    assert _flash_attn.window_of(case) is None  # windows only for Sq == Sk
    return True


def fa4_windows_use_none():
    """FA4 (flash_attn.cute) writes an unbounded window side as None; FA2/FA3 keep -1."""
    fa4, fa3 = _flash_attn.FlashBackend(4), _flash_attn.FlashBackend(3)
    assert fa4._window((-1, 0)) == (None, 0) and fa4._is_causal(fa4._window((-1, 0)))
    assert fa4._window((-1, -1)) == (None, None) and not fa4._is_causal((None, None))
    assert fa4._window((9, 0)) == (9, 0)
    assert fa3._window((-1, 0)) == (-1, 0) and fa3._is_causal((-1, 0))
    assert fa4._window(None) is None
    return True


def flashinfer_bsr_rebuilds_the_mask(mask, block):
    """FlashInfer's BSR (indptr, indices, partial tiles) put back into a dense mask equals mask.dense().

    Returns the number of stored blocks."""
    indptr, indices, tiles = _flashinfer.bsr_of(mask, block)
    dense = np.asarray(mask.dense())
    rebuilt = np.zeros_like(dense)
    n = 0
    for r in range(len(indptr) - 1):
        cols = indices[indptr[r]:indptr[r + 1]]
        assert list(cols) == sorted(cols), "block columns of a row must increase"
        for c in cols:
            rebuilt[r * block:(r + 1) * block, c * block:(c + 1) * block] = True if tiles is None else tiles[n]
            n += 1
    assert n == len(indices) and indptr[-1] == n
    assert (rebuilt == dense).all(), "BSR blocks do not rebuild the mask"
    return n


def torch_missing_is_a_reason():
    """Without torch the torch modules decline with the import error; with torch this is not checked."""
    if _torch_common.torch is not None:
        return "torch present"
    case = {"mask": "full", "seqlen_q": 8, "seqlen_k": 8, "device": "cpu", "dtype": "fp32"}
    why = torch_sdpa_flash.supports(case)
    assert isinstance(why, str) and why.startswith("torch is not importable"), why
    why = torch_flex.supports(case)
    assert isinstance(why, str) and why.startswith("torch is not importable"), why
    return "checked"


def venv_of_another_python_is_named():
    """An activated venv of another Python X.Y is named in the reason; one of this X.Y is not."""
    import os
    import sys
    import tempfile

    saved = os.environ.get("VIRTUAL_ENV")
    try:
        with tempfile.TemporaryDirectory() as venv:
            os.environ["VIRTUAL_ENV"] = venv
            note = _torch_common.venv_mismatch()
            version = "%d.%d" % sys.version_info[:2]
            assert venv in note and version in note, note
            os.makedirs(os.path.join(venv, "lib", "python" + version, "site-packages"))
            assert _torch_common.venv_mismatch() == "", _torch_common.venv_mismatch()
        del os.environ["VIRTUAL_ENV"]
        assert _torch_common.venv_mismatch() == ""
    finally:
        if saved is not None:
            os.environ["VIRTUAL_ENV"] = saved
    return True
