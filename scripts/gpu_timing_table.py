#!/usr/bin/env python3
"""Summaries for scripts/gpu-check.sh: the correctness sweep's outcome, and the timing table
(attnbench's cudnn.sdpa and cuda.math against PyTorch SDPA's cuDNN and flash backends).

  gpu_timing_table.py summary CORRECTNESS_RESULTS.csv
  gpu_timing_table.py table STUDY_RESULTS.csv TORCH_SDPA.csv
"""
import csv
import math
import sys
from collections import Counter, defaultdict


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def summary(path):
    rows = read(path)
    by_backend = defaultdict(Counter)
    worst = defaultdict(float)
    for r in rows:
        by_backend[r["backend"]][r["status"]] += 1
        err = number(r.get("rel_l2_err"))
        if r["status"] == "ok" and not math.isnan(err):
            worst[r["backend"]] = max(worst[r["backend"]], err)
    for b, counts in sorted(by_backend.items()):
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"correctness {b}: {parts}; worst rel L2 of ok rows {worst[b]:.3g}")
    for r in rows:
        if r["status"] in ("mismatch", "error"):
            print(f"  {r['status']}: {r['backend']} {r['mask']} {r.get('mask_params', '')} {r['pass']} "
                  f"S={r['seqlen_q']} D={r['head_dim']}: {r['message']}")
    unsupported = sorted({(r["backend"], r["mask"], r["message"]) for r in rows if r["status"] == "unsupported"})
    for b, m, msg in unsupported:
        print(f"  unsupported: {b} {m}: {msg}")


def fmt(ms):
    return "—" if ms is None or math.isnan(ms) else f"{ms:.3f}"


def add_times(rows, seqlen_column, times, notes):
    """Each row's median (NaN unless ok) under (backend, mask, S, pass); why it is missing or special in notes."""
    for r in rows:
        key = (r["backend"], r["mask"], int(r[seqlen_column]), r["pass"])
        times[key] = number(r.get("time_ms")) if r["status"] == "ok" else math.nan
        if r["status"] != "ok":
            notes[key] = f"{r['status']}: {r['message']}"
        elif r.get("gqa") == "expanded":  # torch_sdpa_bench.py only
            notes[key] = "K/V heads expanded (backend refused enable_gqa)"


def table(study_path, torch_path):
    times = {}
    notes = {}
    add_times(read(study_path), "seqlen_q", times, notes)
    try:
        add_times(read(torch_path), "seqlen", times, notes)
    except FileNotFoundError:
        print(f"(no {torch_path}: PyTorch timings missing)")
    order = {"fwd": 0, "bwd": 1, "fwd_bwd": 2}
    cases = sorted({k[1:] for k in times}, key=lambda k: (k[0], k[1], order.get(k[2], 3)))
    cols = ["cudnn.sdpa", "cuda.math", "torch.cudnn", "torch.flash"]
    print("| mask | S | pass | " + " | ".join(f"{c} (ms)" for c in cols) + " | cudnn.sdpa / torch.cudnn |")
    print("|---|---|---|" + "---|" * len(cols) + "---|")
    for case in cases:
        vals = [times.get((c,) + case, math.nan) for c in cols]
        ratio = vals[0] / vals[2] if not (math.isnan(vals[0]) or math.isnan(vals[2])) else math.nan
        within = "" if math.isnan(ratio) else (" ✓" if abs(ratio - 1) <= 0.05 else " ✗ (> 5 %)")
        print(f"| {case[0]} | {case[1]} | {case[2]} | " + " | ".join(fmt(v) for v in vals) +
              f" | {'—' if math.isnan(ratio) else f'{ratio:.3f}'}{within} |")
    for k, v in sorted(notes.items()):
        print(f"- {k[0]} {k[1]} S={k[2]} {k[3]}: {v}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
