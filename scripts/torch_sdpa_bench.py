#!/usr/bin/env python3
"""PyTorch scaled_dot_product_attention timed like attnbench times its backends (the GPU timing table's baseline).

CUDA events around each iteration on the current stream, an L2 flush (memset of a buffer twice the L2)
before the start event, warm-up, then iterations until min_iters and min_time_s are reached with the
relative noise under max_noise_pct, or max_iters / timeout_s stop it; the median is the headline, as in
attnbench's rows. Tensors are laid out [B, S, H, D] (attnbench's layout) and passed as [B, H, S, D] views.
fwd is a training forward (inputs require grad, so the kernels also write the LSE); bwd times
torch.autograd.grad of that forward's output.
"""
import argparse
import csv
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"torch.cudnn": SDPBackend.CUDNN_ATTENTION, "torch.flash": SDPBackend.FLASH_ATTENTION}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def area(mask, s):
    return s * s if mask == "full" else s * (s + 1) // 2


def flops(mask, s, b, hq, d, pass_):
    fwd = 4.0 * area(mask, s) * hq * d * b
    return fwd if pass_ == "fwd" else 2.5 * fwd


def add_timing_args(p):
    """The stopping rule read by measure(), with attnbench's option names (shared with flex_bench.py)."""
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-iters", type=int, default=10)
    p.add_argument("--max-iters", type=int, default=30)
    p.add_argument("--min-time-s", type=float, default=0.3)
    p.add_argument("--max-noise-pct", type=float, default=3.0)
    p.add_argument("--timeout-s", type=float, default=20.0)


def measure(fn, args, flush):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    stream = torch.cuda.current_stream()

    def iteration():
        if flush is not None:
            flush.zero_()
        start.record(stream)
        fn()
        stop.record(stream)
        stop.synchronize()
        return start.elapsed_time(stop) * 1e-3

    for _ in range(args.warmup):
        iteration()
    times, t0 = [], time.monotonic()
    while True:
        times.append(iteration())
        n = len(times)
        noise = statistics.stdev(times) / statistics.mean(times) if n > 1 else 0.0
        if n >= args.min_iters and sum(times) >= args.min_time_s and noise * 100 <= args.max_noise_pct:
            return times, "converged"
        if n >= args.max_iters:
            return times, "max_iters"
        if time.monotonic() - t0 >= args.timeout_s:
            return times, "timeout"


def run_case(backend, mask, s, pass_, args, flush):
    dt = DTYPES[args.dtype]
    b, hq, hkv, d = args.batch, args.heads_q, args.heads_kv, args.head_dim
    gen = torch.Generator(device="cuda").manual_seed(0)

    def tensor(h):
        return torch.randn(b, s, h, d, device="cuda", dtype=dt, generator=gen).requires_grad_(True)

    q, k, v = tensor(hq), tensor(hkv), tensor(hkv)
    dout = torch.randn(b, s, hq, d, device="cuda", dtype=dt, generator=gen).transpose(1, 2)
    gqa = "native"

    def forward():
        kk, vv = k, v
        if gqa == "expanded":  # the backend refused enable_gqa: repeat K/V heads (counted in the time)
            kk, vv = k.repeat_interleave(hq // hkv, dim=2), v.repeat_interleave(hq // hkv, dim=2)
        with sdpa_kernel([BACKENDS[backend]]):
            return F.scaled_dot_product_attention(q.transpose(1, 2), kk.transpose(1, 2), vv.transpose(1, 2),
                                                  is_causal=(mask == "causal"),
                                                  enable_gqa=(hq != hkv and gqa == "native"))

    try:
        out = forward()
    except RuntimeError:
        if hq == hkv:
            raise
        gqa = "expanded"
        out = forward()
    if pass_ == "fwd":
        fn = forward
    else:
        def fn():
            torch.autograd.grad(out, (q, k, v), dout, retain_graph=True)
    times, stop = measure(fn, args, flush)
    med = statistics.median(times)
    return {
        "backend": backend, "mask": mask, "seqlen": s, "batch": b, "heads_q": hq, "heads_kv": hkv,
        "head_dim": d, "dtype": args.dtype, "pass": pass_, "status": "ok",
        "time_ms": med * 1e3, "time_ms_min": min(times) * 1e3, "time_ms_max": max(times) * 1e3,
        "noise_pct": (statistics.stdev(times) / statistics.mean(times) * 100) if len(times) > 1 else 0.0,
        "iters": len(times), "tflops": flops(mask, s, b, hq, d, pass_) / med / 1e12, "stop_reason": stop,
        "gqa": gqa, "message": "",
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads-q", type=int, default=64)
    p.add_argument("--heads-kv", type=int, default=8)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--seqlens", type=int, nargs="+", default=[4096, 16384])
    p.add_argument("--masks", nargs="+", choices=["full", "causal"], default=["full", "causal"])
    p.add_argument("--passes", nargs="+", choices=["fwd", "bwd"], default=["fwd", "bwd"])
    p.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS))
    p.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    add_timing_args(p)
    p.add_argument("--no-l2-flush", action="store_true", help="do not flush L2 before each iteration")
    args = p.parse_args()

    props = torch.cuda.get_device_properties(0)
    flush = None
    if not args.no_l2_flush:
        flush = torch.empty(max(2 * props.L2_cache_size, 1 << 20), dtype=torch.uint8, device="cuda")
    print(f"# {props.name}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}", file=sys.stderr)
    rows = []
    for backend in args.backends:
        for mask in args.masks:
            for s in args.seqlens:
                for pass_ in args.passes:
                    try:
                        row = run_case(backend, mask, s, pass_, args, flush)
                    except Exception as e:  # one failing case must not lose the table
                        row = {"backend": backend, "mask": mask, "seqlen": s, "pass": pass_,
                               "status": "oom" if isinstance(e, torch.OutOfMemoryError) else "error",
                               "message": str(e).splitlines()[0] if str(e) else type(e).__name__}
                    torch.cuda.empty_cache()
                    rows.append(row)
                    print(f"{backend:12} {mask:6} S={s:6} {pass_:3} {row['status']:6} "
                          f"{row.get('time_ms', math.nan):9.3f} ms {row.get('gqa', '')} {row['message']}",
                          file=sys.stderr)
    fields = ["backend", "mask", "seqlen", "batch", "heads_q", "heads_kv", "head_dim", "dtype", "pass",
              "status", "time_ms", "time_ms_min", "time_ms_max", "noise_pct", "iters", "tflops",
              "stop_reason", "gqa", "message"]
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow(r)


if __name__ == "__main__":
    main()
