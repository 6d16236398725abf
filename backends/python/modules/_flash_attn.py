"""FlashAttention-2 (flash_attn), -3 (flash_attn_interface) and -4 (flash_attn.cute of flash-attn-4) through their Python APIs."""
import numpy as np

import _torch_common as tc
from _torch_common import torch


_TAKES_RETURN_PROBS = {}  # version -> whether flash_attn_func accepts return_attn_probs


def _import(version):
    """(flash_attn_func, flash_attn_varlen_func) or a reason string."""
    try:
        if version == 2:
            from flash_attn import flash_attn_func, flash_attn_varlen_func
        elif version == 4:
            # The CuTe-DSL kernels (Hopper and Blackwell), returning (out, lse).
            from flash_attn.cute import flash_attn_func, flash_attn_varlen_func
        else:
            try:
                from flash_attn_interface import flash_attn_func, flash_attn_varlen_func
            except ImportError:
                from flash_attn_3.flash_attn_interface import flash_attn_func, flash_attn_varlen_func
        return flash_attn_func, flash_attn_varlen_func
    except Exception as e:
        package = {2: "flash_attn", 3: "flash_attn_interface (FlashAttention-3)",
                   4: "flash_attn.cute (FlashAttention-4, package flash-attn-4)"}[version]
        return "%s is not importable (%s: %s)" % (package, type(e).__name__, e)


def batch_cu_seqlens(cu, batch, seqlen):
    """One sequence's segment starts, repeated for each batch entry of the packed [B * S] layout (int32)."""
    cu = np.asarray(cu, dtype=np.int64)
    return np.concatenate([cu[:-1] + i * seqlen for i in range(batch)] + [[batch * seqlen]]).astype(np.int32)


def window_of(case):
    """(window_left, window_right) for masks FlashAttention expresses directly, else None."""
    name, p = case["mask"], case["mask_params"]
    if name == "full":
        return (-1, -1)
    if name == "causal":
        return (-1, 0)  # FlashAttention's causal is bottom-right aligned, as attnbench's
    if case["seqlen_q"] != case["seqlen_k"]:
        return None
    if name == "sliding_window":
        return (int(p["window"]), int(p["window"]))
    if name == "causal_sliding_window":
        return (int(p["window"]), 0)
    return None


class FlashBackend:
    def __init__(self, version):
        self.version = version
        self.name = "flash_attn.fa%d" % version

    def describe(self):
        return tc.describe(self.name, "FlashAttention-%d: full, causal and windows directly, "
                           "document masks through the varlen API" % self.version,
                           dtypes=("bf16", "fp16"), head_dim_multiple=8)

    def supports(self, case):
        why = tc.missing()
        if why:
            return why
        fns = _import(self.version)
        if isinstance(fns, str):
            return fns
        if case["device"] != "cuda":
            return "FlashAttention runs only on CUDA"
        if window_of(case) is None:
            varlen = case["mask_view"].varlen() if case["mask_view"] is not None else None
            if varlen is None or case["seqlen_q"] != case["seqlen_k"]:
                return "mask %s has no FlashAttention form (full, causal, windows, or cu_seqlens + window)" % case["mask"]
        return True

    def prepare(self, case, q, k, v, dout, mask):
        func, varlen_func = _import(self.version)
        grad = case["pass"] != "fwd"
        b, sq, sk = case["batch"], case["seqlen_q"], case["seqlen_k"]
        # FlashAttention's layout is the harness's [B, S, H, D]: no transpose.
        st = {n: tc.upload(x, case, transpose=False, requires_grad=grad) for n, x in (("q", q), ("k", k), ("v", v))}
        st["grad"] = grad
        if dout is not None:
            st["do"] = tc.upload(dout, case, transpose=False)
        scale = case["softmax_scale"]
        window = self._window(window_of(case))
        if window is not None:
            st["call"] = lambda q_, k_, v_: func(q_, k_, v_, softmax_scale=scale, causal=self._is_causal(window),
                                                  window_size=window, **self._probs())
            st["unpack_lse"] = lambda lse: lse  # [B, H, Sq]
        else:
            form = mask.varlen()
            cu_t = torch.from_numpy(batch_cu_seqlens(form["cu_seqlens"], b, sq)).to(case["device"])
            longest = int(np.diff(np.asarray(form["cu_seqlens"])).max())
            wl, wr = self._window((int(form["window_left"]), int(form["window_right"])))
            heads = case["heads_q"]

            def call(q_, k_, v_):
                o, lse = self._split(varlen_func(q_.reshape(b * sq, *q_.shape[2:]), k_.reshape(b * sk, *k_.shape[2:]),
                                                 v_.reshape(b * sk, *v_.shape[2:]), cu_t, cu_t, longest, longest,
                                                 softmax_scale=scale, causal=self._is_causal((wl, wr)),
                                                 window_size=(wl, wr), **self._probs()))
                return o.reshape(b, sq, *o.shape[1:]), lse

            st["call"] = call
            # Varlen LSE is [H, total]: back to [B, H, Sq] when read.
            st["unpack_lse"] = lambda lse: lse.reshape(heads, b, sq).transpose(0, 1)
        # One untimed call: the graph a `bwd` pass needs, and the API probe of _forward.
        self._forward(st)
        return st

    def _window(self, window):
        """FA2/FA3 write an unbounded side as -1, FA4 as None."""
        if window is None or self.version != 4:
            return window
        return tuple(None if w < 0 else w for w in window)

    @staticmethod
    def _is_causal(window):
        return tuple(window) in ((-1, 0), (None, 0))

    def _probs(self):
        # Makes FA2 and recent FA3 return the LSE; early FA3 returns (out, lse) and has no such argument.
        return {"return_attn_probs": True} if _TAKES_RETURN_PROBS.get(self.version, True) else {}

    @staticmethod
    def _split(r):
        return (r[0], r[1]) if isinstance(r, (tuple, list)) else (r, None)

    def _forward(self, st):
        with torch.set_grad_enabled(st["grad"]):
            try:
                r = st["call"](st["q"], st["k"], st["v"])
            except TypeError as e:
                if "return_attn_probs" not in str(e) or not _TAKES_RETURN_PROBS.get(self.version, True):
                    raise
                _TAKES_RETURN_PROBS[self.version] = False
                r = st["call"](st["q"], st["k"], st["v"])
            o, lse = self._split(r)
            if lse is None:
                raise RuntimeError("%s returned no LSE" % self.name)
        st["o"], st["lse"] = o, lse
        return o, lse

    def forward(self, st):
        o, lse = self._forward(st)
        return o, st["unpack_lse"](lse)

    def backward(self, st):
        return tc.autograd_backward(st)  # already [B, S, H, D]


def bind(module_globals, version):
    tc.export(module_globals, FlashBackend(version))
