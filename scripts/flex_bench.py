#!/usr/bin/env python3
"""FlexAttention timed like attnbench times its backends, on attnbench's own masks (the cuda.flash table's baseline).

Each mask is taken from attnbench itself (`attnbench mask NAME --seqlen S --dump FILE.npy --json`), so
Flex runs exactly the pattern and FLOP count of the attnbench rows it is compared with. The BlockMask is
built by create_block_mask from the dense mask (128x128 blocks: empty blocks skipped, full blocks unmasked),
outside the timed region; flex_attention is compiled once per sequence length and warmed up before timing.
Timing policy and L2 flush are those of torch_sdpa_bench.py (CUDA events, same stopping rule).
"""
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_sdpa_bench import DTYPES, add_timing_args, measure  # noqa: E402  (same timing policy)

DENSE = None  # the current mask, read by mask_mod; reassigning it does not recompile


def mask_mod(b, h, q_idx, kv_idx):
    return DENSE[q_idx, kv_idx]


def attnbench_mask(binary, name, s, tmp):
    path = os.path.join(tmp, f"{name}-{s}.npy")
    out = subprocess.run([binary, "mask", name, "--seqlen", str(s), "--dump", path, "--json"],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    dense = torch.from_numpy(np.load(path).astype(np.bool_)).cuda()
    os.remove(path)
    return dense, info["area"]


def main():
    global DENSE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--attnbench", required=True, help="the attnbench binary (for the masks)")
    p.add_argument("--out", required=True)
    p.add_argument("--masks", nargs="+", required=True)
    p.add_argument("--seqlens", type=int, nargs="+", default=[4096, 16384])
    p.add_argument("--passes", nargs="+", choices=["fwd", "bwd"], default=["fwd", "bwd"])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads-q", type=int, default=64)
    p.add_argument("--heads-kv", type=int, default=8)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    add_timing_args(p)
    args = p.parse_args()

    props = torch.cuda.get_device_properties(0)
    flush = torch.empty(max(2 * props.L2_cache_size, 1 << 20), dtype=torch.uint8, device="cuda")
    flex = torch.compile(flex_attention, dynamic=False)
    dt = DTYPES[args.dtype]
    b, hq, hkv, d = args.batch, args.heads_q, args.heads_kv, args.head_dim
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in args.seqlens:
            gen = torch.Generator(device="cuda").manual_seed(0)
            q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=dt, generator=gen).requires_grad_(True)
                       for h in (hq, hkv, hkv))
            dout = torch.randn(b, hq, s, d, device="cuda", dtype=dt, generator=gen)
            for name in args.masks:
                try:
                    DENSE, area = attnbench_mask(args.attnbench, name, s, tmp)
                    block_mask = create_block_mask(mask_mod, None, None, s, s, device="cuda", BLOCK_SIZE=128)

                    def forward():
                        return flex(q, k, v, block_mask=block_mask, enable_gqa=(hq != hkv))

                    out = forward()  # compiles on the first call of each sequence length
                    for pass_ in args.passes:
                        if pass_ == "fwd":
                            fn = forward
                        else:
                            def fn():
                                torch.autograd.grad(out, (q, k, v), dout, retain_graph=True)
                            fn()  # compiles the backward outside the timed region
                        times, stop = measure(fn, args, flush)
                        med = statistics.median(times)
                        fl = 4.0 * area * hq * d * b * (1.0 if pass_ == "fwd" else 2.5)
                        rows.append({"backend": "torch.flex", "mask": name, "seqlen": s, "pass": pass_,
                                     "status": "ok", "time_ms": med * 1e3, "iters": len(times),
                                     "tflops": fl / med / 1e12, "area": area, "stop_reason": stop, "message": ""})
                except Exception as e:  # one failing case must not lose the table
                    for pass_ in args.passes:
                        rows.append({"backend": "torch.flex", "mask": name, "seqlen": s, "pass": pass_,
                                     "status": "error", "message": (str(e).splitlines() or [type(e).__name__])[0]})
                for r in rows[-len(args.passes):]:
                    print(f"torch.flex {name:24} S={s:6} {r['pass']:3} {r['status']:6} "
                          f"{r.get('time_ms', math.nan):9.3f} ms {r['message']}", file=sys.stderr, flush=True)
                torch.cuda.empty_cache()
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["backend", "mask", "seqlen", "pass", "status", "time_ms", "iters",
                                          "tflops", "area", "stop_reason", "message"])
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
