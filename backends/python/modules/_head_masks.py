"""Masks per (batch, query head) for Python backends: distinct masks, their layout and dense stacks (NumPy only).

The bridge passes case["head_masks"]: B*Hq mask views, index b*heads_q + h, where entries
that share a mask are the same object (docs/python-backends.md). These helpers build each
distinct mask's forms once.
"""
import numpy as np


def masks(case):
    """The B*Hq mask views of the case, or None when one mask holds for every (b, h)."""
    return case.get("head_masks") or None


def distinct(case):
    """(views, index): each distinct mask once, and index[b, h] (int32 [B, Hq]) into that list."""
    hm = masks(case)
    b, h = case["batch"], case["heads_q"]
    if hm is None:
        return [case["mask_view"]], np.zeros((b, h), dtype=np.int32)
    views, slot, index = [], {}, np.empty(b * h, dtype=np.int32)
    for i, m in enumerate(hm):
        key = id(m)  # the bridge gives one object per distinct mask
        if key not in slot:
            slot[key] = len(views)
            views.append(m)
        index[i] = slot[key]
    return views, index.reshape(b, h)


def spans(case):
    """(batch span, head span): B or 1 and Hq or 1, as the masks vary along those axes.

    Every entry being one and the same mask happens only when the harness asks a module
    whether it takes a dynamic selector's masks before selecting them (they are the base
    mask then); the selected masks differ per (b, h), so that counts as both axes varying.
    """
    hm = masks(case)
    b, h = case["batch"], case["heads_q"]
    if hm is None:
        return 1, 1
    if all(m is hm[0] for m in hm):
        return b, h
    by_batch = any(hm[i * h + j] is not hm[j] for i in range(b) for j in range(h))
    by_head = any(hm[i * h + j] is not hm[i * h] for i in range(b) for j in range(h))
    return (b if by_batch else 1), (h if by_head else 1)


def dense_bytes(case):
    """Bytes of the boolean mask dense_stack builds (1 byte per element), worst case before selection."""
    bs, hs = spans(case)
    return bs * hs * case["seqlen_q"] * case["seqlen_k"]


def dense_stack(case):
    """The dense boolean mask (True = allowed) broadcastable to [B, Hq, Sq, Sk].

    Shape [B or 1, Hq or 1, Sq, Sk] (an axis the masks do not vary along is 1); a uniform
    case gives the base mask's [Sq, Sk]. Each distinct mask's dense() is read once.
    """
    if masks(case) is None:
        return case["mask_view"].dense()
    views, index = distinct(case)
    bs, hs = spans(case)
    index = index[:bs, :hs]
    dense = [None] * len(views)
    out = np.empty((bs, hs, case["seqlen_q"], case["seqlen_k"]), dtype=bool)
    for i in range(bs):
        for j in range(hs):
            slot = index[i, j]
            if dense[slot] is None:
                dense[slot] = views[slot].dense()
            out[i, j] = dense[slot]
    return out


# The largest dense per-(b, h) mask a module builds: 1 GiB of booleans (e.g. B 1, Hq 8 at 8K x 16K).
DENSE_LIMIT_BYTES = 1 << 30


def dense_refusal(case, who):
    """None when dense_stack's mask fits DENSE_LIMIT_BYTES, else the reason (an `unsupported` row)."""
    need = dense_bytes(case)
    if need <= DENSE_LIMIT_BYTES:
        return None
    bs, hs = spans(case)
    return ("%s: masks per (batch, head) as a dense boolean attn_mask [%d, %d, %d, %d] need %d MiB "
            "(limit %d MiB)" % (who, bs, hs, case["seqlen_q"], case["seqlen_k"], need >> 20,
                                DENSE_LIMIT_BYTES >> 20))
