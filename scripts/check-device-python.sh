#!/usr/bin/env bash
# Checks a packed Python bridge on the build machine as if moved to the GPU machine: the build's interpreter hidden.
# Usage: scripts/check-device-python.sh DEV PYTHON   (root: uses unshare --mount)
#   DEV     a folder made by package-device.sh (with DEV/python), e.g. an unpacked copy elsewhere
#   PYTHON  an interpreter of the same X.Y with numpy (torch optional), standing in for the device's venv
# The environment comes from scripts/device-python-env.sh, as in gpu-check.sh. Then, in a private mount
# namespace where the embedded interpreter's install prefix (DEV/python/BUILT_FROM) is an empty folder,
# runs a small CPU scenario: cpu.reference, numpy.reference, and torch.sdpa_math / torch.flex on the CPU.
# PASS: libpython resolves from DEV/lib, every numpy.reference row is ok, no row is mismatch or error,
# and, when PYTHON has torch, the torch.sdpa_math rows are ok too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dev="$(cd "${1:?usage: check-device-python.sh DEV PYTHON}" && pwd)"
export ATTNBENCH_DEVICE_PYTHON="${2:?usage: check-device-python.sh DEV PYTHON}"
built_from="$(cat "$dev/python/BUILT_FROM")"
source "$root/scripts/device-python-env.sh"
export LD_LIBRARY_PATH="$dev/lib"  # as gpu-check.sh: the package's libraries first
device_python_env "$dev"
has_torch=0
"$ATTNBENCH_DEVICE_PYTHON" -c "import torch" 2>/dev/null && has_torch=1
work="$(mktemp -d)"
cat > "$work/check.yaml" <<'EOF'
name: device-python-check
backends: [cpu.reference, numpy.reference, torch.sdpa_math, torch.flex]
masks: [full, causal, {name: causal_document, doc_lengths: [50, 78]}]
seqlens: [128]
shape: {batch: 1, heads_q: 4, heads_kv: 2, head_dim: 32}
dtypes: [fp32]
passes: [fwd, bwd]
timing: {warmup: 0, min_iters: 1, max_iters: 2, min_time_s: 0}
EOF
export ATTNBENCH_TORCH_DEVICE=cpu
unshare --mount --propagation private bash -c '
  set -euo pipefail
  mount -t tmpfs none "$1"
  echo "hidden: $1 ($(ls -A "$1" | wc -l) entries)"
  ldd "$2/attnbench" | grep libpython | tee "$3/ldd.txt"
  "$2/attnbench" run "$3/check.yaml" --out "$3/out" --quiet' check "$built_from" "$dev" "$work"
# The stand-in environment is for attnbench only: this python3 must not see the packed PYTHONHOME.
env -u PYTHONHOME -u PYTHONPATH -u VIRTUAL_ENV python3 - "$work" "$dev" "$has_torch" <<'PY'
import csv, sys
work, dev, has_torch = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
fail = []
if (dev + "/lib/libpython") not in open(work + "/ldd.txt").read():
    fail.append("libpython does not resolve from %s/lib" % dev)
rows = list(csv.DictReader(open(work + "/out/results.csv", newline="")))
for r in rows:
    what = "%s %s %s: %s %s" % (r["backend"], r["mask"], r["pass"], r["status"], r["message"])
    print("  " + what + ("" if r["status"] != "ok" else " rel_l2_err=" + r["rel_l2_err"]))
    if r["status"] in ("mismatch", "error"):
        fail.append(what)
    if r["backend"] == "numpy.reference" and r["status"] != "ok":
        fail.append(what)
    if has_torch and r["backend"] == "torch.sdpa_math" and r["status"] != "ok":
        fail.append(what)
print("torch in the stand-in Python: %s" % ("yes" if has_torch else "no (torch rows are unsupported)"))
if fail:
    print("FAIL\n  " + "\n  ".join(fail))
    sys.exit(1)
print("PASS: %d rows" % len(rows))
PY
rm -rf "$work"
