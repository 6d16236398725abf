"""PyTorch scaled_dot_product_attention with one backend forced (math, flash, efficient, cudnn)."""
import _head_masks
import _torch_common as tc
from _torch_common import torch

# Which masks each forced backend can take: is_causal only (Sq == Sk), or any dense attn_mask.
# On the CPU, PyTorch's flash kernel takes an attn_mask too (its CUDA one does not; checked with 2.11).
_TAKES_ATTN_MASK = {"math": True, "flash": False, "efficient": True, "cudnn": False}
_TAKES_ATTN_MASK_ON_CPU = {"flash": True}
_CUDA_ONLY = {"math": False, "flash": False, "efficient": True, "cudnn": True}
_SDPA_NAME = {"math": "MATH", "flash": "FLASH_ATTENTION", "efficient": "EFFICIENT_ATTENTION",
              "cudnn": "CUDNN_ATTENTION"}


def _takes_attn_mask(variant, dev):
    if dev == "cpu" and tc.version() >= (2, 5):
        return _TAKES_ATTN_MASK_ON_CPU.get(variant, _TAKES_ATTN_MASK[variant])
    return _TAKES_ATTN_MASK[variant]


class SdpaBackend:
    def __init__(self, variant):
        self.variant = variant
        self.name = "torch.sdpa_" + variant

    def describe(self):
        takes = _takes_attn_mask(self.variant, tc.device())
        how = "any mask as a dense attn_mask" if takes else "full, and causal via is_causal"
        # Masks per (b, h) go in as a [B, Hq, Sq, Sk] attn_mask; a variant without attn_mask refuses them
        # in supports() with its reason (rather than the bridge's generic one).
        return tc.describe(self.name, "PyTorch SDPA, %s backend forced (%s)" % (self.variant, how),
                           head_masks=True)

    def _sdpa_backend(self):
        from torch.nn.attention import SDPBackend
        return getattr(SDPBackend, _SDPA_NAME[self.variant], None)

    def supports(self, case):
        why = tc.missing()
        if why:
            return why
        if tc.version() < (2, 3):
            return "needs torch >= 2.3 for torch.nn.attention.sdpa_kernel (found %s)" % torch.__version__
        if self._sdpa_backend() is None:
            return "this torch (%s) has no SDPBackend for %s" % (torch.__version__, self.variant)
        if _CUDA_ONLY[self.variant] and case["device"] != "cuda":
            return "SDPA %s runs only on CUDA (device is %s)" % (self.variant, case["device"])
        takes = _takes_attn_mask(self.variant, case["device"])
        if _head_masks.masks(case) is not None:
            if not takes:
                return ("SDPA %s takes no attn_mask: masks that differ per batch element or head need one"
                        % self.variant)
            why = _head_masks.dense_refusal(case, "SDPA " + self.variant)
            if why:
                return why
        elif not takes:
            if case["mask"] == "causal" and case["seqlen_q"] != case["seqlen_k"]:
                return "SDPA %s: is_causal is top-left aligned; the causal mask with Sq != Sk is bottom-right" % self.variant
            if case["mask"] not in ("full", "causal"):
                return "SDPA %s takes no attn_mask: only full and causal masks" % self.variant
        if case["dtype"] == "fp32" and self.variant in ("flash", "cudnn") and case["device"] == "cuda":
            return "SDPA %s on CUDA needs bf16 or fp16" % self.variant
        return True

    def prepare(self, case, q, k, v, dout, mask):
        grad = case["pass"] != "fwd"
        hq, hkv = case["heads_q"], case["heads_kv"]
        st = {"q": tc.upload(q, case, requires_grad=grad), "heads_kv": hkv, "grad": grad,
              "backend": self._sdpa_backend(), "kwargs": {"scale": case["softmax_scale"]}}
        name, same_len = case["mask"], case["seqlen_q"] == case["seqlen_k"]
        st["allowed"] = None
        if _head_masks.masks(case) is not None:
            # [B|1, Hq|1, Sq, Sk]: broadcast over the axes the masks do not vary along.
            dense = torch.from_numpy(_head_masks.dense_stack(case)).to(case["device"])
            st["kwargs"]["attn_mask"] = dense
            st["allowed"] = lambda: dense
        elif name == "causal" and same_len:
            st["kwargs"]["is_causal"] = True
            st["allowed"] = lambda: tc.dense_mask(mask, case)  # for the LSE only, built when read
        elif name != "full":
            dense = tc.dense_mask(mask, case)
            st["kwargs"]["attn_mask"] = dense
            st["allowed"] = lambda: dense
        if dout is not None:
            st["do"] = tc.upload(dout, case)
        # GQA: enable_gqa (torch >= 2.5) for math and flash; otherwise, or when this
        # torch's forced backend rejects it, K/V heads are repeated here, untimed.
        native = hq != hkv and tc.version() >= (2, 5) and self.variant in ("math", "flash")
        self._set_kv(st, case, k, v, repeat=hq != hkv and not native)
        try:
            self._forward(st)  # untimed: warms up, probes enable_gqa, and is the graph a `bwd` pass walks
        except RuntimeError:
            if not native:
                raise
            self._set_kv(st, case, k, v, repeat=True)
            self._forward(st)
        return st

    @staticmethod
    def _set_kv(st, case, k, v, repeat):
        kk, vv = tc.upload(k, case), tc.upload(v, case)
        group = case["heads_q"] // case["heads_kv"]
        if repeat:
            kk, vv = kk.repeat_interleave(group, dim=1), vv.repeat_interleave(group, dim=1)
        st["k"], st["v"] = kk.requires_grad_(st["grad"]), vv.requires_grad_(st["grad"])
        st["kv_repeated"] = repeat
        st["kwargs"].pop("enable_gqa", None)
        if group > 1 and not repeat:
            st["kwargs"]["enable_gqa"] = True

    def _forward(self, st):
        from torch.nn.attention import sdpa_kernel
        import torch.nn.functional as F
        with sdpa_kernel(st["backend"]), torch.set_grad_enabled(st["grad"]):
            st["o"] = F.scaled_dot_product_attention(st["q"], st["k"], st["v"], **st["kwargs"])
        return st["o"]

    def forward(self, st):
        o = self._forward(st)
        # The public SDPA returns no LSE: it is computed when read, outside the timed region.
        return tc.to_bshd(o), tc.MaskedLse(st["q"], st["k"], st["allowed"], st["kwargs"]["scale"], st["heads_kv"])

    def backward(self, st):
        from torch.nn.attention import sdpa_kernel
        with sdpa_kernel(st["backend"]):
            dq, dk, dv = tc.autograd_backward(st)
        return tc.grads_bshd(st, dq, dk, dv)


def bind(module_globals, variant):
    """Makes a module follow the protocol with this variant's functions."""
    tc.export(module_globals, SdpaBackend(variant))
