#!/usr/bin/env bash
# timing.metric instructions under callgrind: two runs of a tiny case count the same instructions per
# iteration (to 0.01 %), the row says metric/counter, and the harness removes the dumps it read.
# usage: instructions_twice.sh VALGRIND ATTNBENCH WORKDIR
set -euo pipefail
valgrind=$1 bin=$2 work=$3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work" && mkdir -p "$work"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export ATTNBENCH_CALLGRIND_OUT="$work/cg.%p"
for i in 1 2; do
  "$valgrind" --tool=callgrind --instr-atstart=no "--callgrind-out-file=$ATTNBENCH_CALLGRIND_OUT" -q \
    "$bin" run "$here/tiny.yaml" --out "$work/r$i" --quiet > "$work/r$i.log" 2>&1 || { cat "$work/r$i.log"; exit 1; }
done
python3 - "$work" <<'PY'
import json, sys, glob
work = sys.argv[1]
rows = [json.load(open(f"{work}/r{i}/results.json"))["results"][0] for i in (1, 2)]
for r in rows:
    assert r["status"] == "ok", r
    assert r["metric"] == "instructions" and r["counter"] == "callgrind", r
    assert r["instructions"] > 1000, r
a, b = rows[0]["instructions"], rows[1]["instructions"]
assert abs(a - b) <= 1e-4 * a, (a, b)
# Only valgrind's own final dumps remain (cg.PID); the per-case dumps (cg.PID.N) were read and removed.
left = [f for f in glob.glob(f"{work}/cg.*") if f.count(".") > 1 and f.rsplit(".", 1)[1].isdigit() and len(f.rsplit(".", 2)) == 3 and f.rsplit(".", 2)[1].isdigit()]
assert not left, left
print(f"instructions per iteration: {a:.0f} and {b:.0f}")
PY
