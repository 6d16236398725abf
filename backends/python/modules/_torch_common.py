"""Shared pieces of the PyTorch backends: the import check, device and dtype, uploads, autograd backward, LSE."""
import os
import warnings

import numpy as np

try:
    import torch
    _IMPORT_ERROR = None
except Exception as e:  # not installed, or a broken install: the rows say why
    torch = None
    _IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)


def missing():
    """None when torch imports, else the reason the rows are `unsupported`."""
    return None if torch is not None else "torch is not importable (%s)%s" % (_IMPORT_ERROR, venv_mismatch())


def venv_mismatch():
    """A note when the activated venv is for another Python X.Y than this embedded one (so adds nothing)."""
    import sys

    venv = os.environ.get("VIRTUAL_ENV")
    if not venv:
        return ""
    site = os.path.join(venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    if os.path.isdir(site):
        return ""
    return "; the activated venv %s is not a Python %d.%d venv, the version attnbench embeds" % (
        venv, sys.version_info[0], sys.version_info[1])


def version():
    if torch is None:
        return (0, 0)
    parts = torch.__version__.split("+")[0].split(".")
    return tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in parts[:2])


def device():
    """CUDA when torch sees a GPU; ATTNBENCH_TORCH_DEVICE=cpu|cuda forces one."""
    forced = os.environ.get("ATTNBENCH_TORCH_DEVICE")
    if forced:
        return forced
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


def torch_dtype(name):
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "fp64": torch.float64}[name]


def describe(name, description, dtypes=("fp32", "bf16", "fp16"), **extra):
    d = {
        "name": name,
        "device": device(),
        "description": description,
        "dtypes": list(dtypes),
        "passes": ["fwd", "bwd", "fwd_bwd"],
    }
    d.update(extra)
    return d


def upload(x, case, transpose=True, requires_grad=False):
    """[B, S, H, D] float32 NumPy (the harness's buffer, no copy) -> a tensor on the case's device.

    transpose=True gives PyTorch's [B, H, S, D] layout, made contiguous here so the
    timed call does not pay for it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the harness's arrays are read-only on purpose
        t = torch.from_numpy(x)
    t = t.to(device=case["device"], dtype=torch_dtype(case["dtype"]))
    if transpose:
        t = t.transpose(1, 2)
    t = t.contiguous()
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_bshd(t):
    """[B, H, S, D] -> a [B, S, H, D] view (the bridge copies it to the host only when checked)."""
    return t.transpose(1, 2)


class Folded:
    """Gradients of K/V heads that were repeated for GQA, summed back per KV head when read."""

    def __init__(self, grad, heads_kv):
        self.grad = grad
        self.heads_kv = heads_kv

    def __array__(self, dtype=None):
        b, h, s, d = self.grad.shape
        g = self.grad.detach().float().reshape(b, self.heads_kv, h // self.heads_kv, s, d).sum(dim=2)
        return np.asarray(to_bshd(g).cpu().numpy(), dtype=dtype or np.float32)


def autograd_backward(state):
    """dQ, dK, dV of the graph of state['o'] (kept with retain_graph, so it can be timed again)."""
    dq, dk, dv = torch.autograd.grad(state["o"], (state["q"], state["k"], state["v"]), state["do"],
                                     retain_graph=True)
    return dq, dk, dv


def grads_bshd(state, dq, dk, dv):
    """The harness layout for the gradients; repeated K/V heads are folded when read (untimed)."""
    if state.get("kv_repeated"):
        return to_bshd(dq), Folded(dk, state["heads_kv"]), Folded(dv, state["heads_kv"])
    return to_bshd(dq), to_bshd(dk), to_bshd(dv)


class MaskedLse:
    """The log-sum-exp of the masked scores, computed when the bridge reads it (outside the timed region).

    For APIs that do not return the LSE (PyTorch's public SDPA): fp32 scores from
    the same device tensors the kernel used, in row chunks to bound memory.
    """

    def __init__(self, q, k, allowed, scale, heads_kv):
        """allowed: None (full mask) or a function returning the dense boolean mask on the device."""
        self.q, self.k, self.allowed, self.scale, self.heads_kv = q, k, allowed, scale, heads_kv

    def __array__(self, dtype=None):
        allowed = self.allowed() if self.allowed is not None else None
        with torch.no_grad():
            q = self.q.detach().float()
            k = self.k.detach().float()
            b, h, sq, d = q.shape
            if k.shape[1] != h:
                k = k.repeat_interleave(h // k.shape[1], dim=1)
            sk = k.shape[2]
            rows = max(1, min(sq, (256 << 20) // max(1, 4 * b * h * sk)))
            out = torch.empty(b, h, sq, device=q.device)
            for r0 in range(0, sq, rows):
                s = torch.matmul(q[:, :, r0:r0 + rows], k.transpose(-1, -2)) * self.scale
                if allowed is not None:  # [Sq, Sk], or [B|1, Hq|1, Sq, Sk] for masks per (b, h)
                    s = s.masked_fill(~allowed[..., r0:r0 + rows, :], float("-inf"))
                out[:, :, r0:r0 + rows] = torch.logsumexp(s, dim=-1)
            return np.asarray(out.cpu().numpy(), dtype=dtype or np.float32)


def export(module_globals, backend):
    """Makes a module follow the backend protocol with the methods of `backend` (one shipped variant)."""
    for fn in ("describe", "supports", "prepare", "forward", "backward"):
        module_globals[fn] = getattr(backend, fn)


def dense_mask(mask, case):
    """The dense boolean mask [Sq, Sk] (True = allowed) on the case's device."""
    return torch.from_numpy(np.ascontiguousarray(mask.dense())).to(case["device"])
