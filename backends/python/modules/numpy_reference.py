"""numpy.reference: exact attention in float64 NumPy, a Python backend that needs no PyTorch (tests the bridge)."""
import numpy as np

import _head_masks


def describe():
    return {
        "name": "numpy.reference",
        "device": "cpu",
        "description": "float64 NumPy attention through the Python bridge (dense mask, GQA, masks per (b, h))",
        "dtypes": ["fp32", "bf16", "fp16"],
        "passes": ["fwd", "bwd", "fwd_bwd"],
        "head_masks": True,
    }


def supports(case):
    # The dense score matrix is B*Hq*Sq*Sk float64 values: keep it under 2 GiB.
    need = 8 * case["batch"] * case["heads_q"] * case["seqlen_q"] * case["seqlen_k"]
    if need > 2 << 30:
        return "numpy.reference holds the dense scores (%d MiB > 2048 MiB)" % (need >> 20)
    return True


def prepare(case, q, k, v, dout, mask):
    group = case["heads_q"] // case["heads_kv"]
    # [B, S, H, D] -> [B, H, S, D]; K/V heads repeated for GQA.
    state = {
        "q": np.transpose(q, (0, 2, 1, 3)).astype(np.float64),
        "k": np.repeat(np.transpose(k, (0, 2, 1, 3)).astype(np.float64), group, axis=1),
        "v": np.repeat(np.transpose(v, (0, 2, 1, 3)).astype(np.float64), group, axis=1),
        # [Sq, Sk], or [B|1, Hq|1, Sq, Sk] when the masks differ per (b, h): broadcasts over the scores.
        "allowed": _head_masks.dense_stack(case),
        "scale": case["softmax_scale"],
        "group": group,
        "heads_kv": case["heads_kv"],
    }
    if dout is not None:
        state["do"] = np.transpose(dout, (0, 2, 1, 3)).astype(np.float64)
    if case["pass"] == "bwd":
        forward(state)  # the forward a backward pass needs, outside the timed region
    return state


def _probabilities(state):
    s = np.einsum("bhqd,bhkd->bhqk", state["q"], state["k"]) * state["scale"]
    s = np.where(state["allowed"], s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    total = e.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = np.where(total > 0, np.log(total) + m, -np.inf)[..., 0]
        p = np.where(total > 0, e / total, 0.0)
    return p, lse


def forward(state):
    p, lse = _probabilities(state)
    o = np.einsum("bhqk,bhkd->bhqd", p, state["v"])
    state["p"], state["o"] = p, o
    return np.transpose(o, (0, 2, 1, 3)), lse


def backward(state):
    p, o, do = state["p"], state["o"], state["do"]
    dp = np.einsum("bhqd,bhkd->bhqk", do, state["v"])
    ds = p * (dp - np.sum(do * o, axis=-1, keepdims=True))
    dq = np.einsum("bhqk,bhkd->bhqd", ds, state["k"]) * state["scale"]
    dk = np.einsum("bhqk,bhqd->bhkd", ds, state["q"]) * state["scale"]
    dv = np.einsum("bhqk,bhqd->bhkd", p, do)

    def fold(x):  # sum the gradients of the query heads that share a KV head
        b, h, s, d = x.shape
        return x.reshape(b, state["heads_kv"], state["group"], s, d).sum(axis=2)

    return (np.transpose(dq, (0, 2, 1, 3)), np.transpose(fold(dk), (0, 2, 1, 3)),
            np.transpose(fold(dv), (0, 2, 1, 3)))
