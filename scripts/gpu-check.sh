#!/usr/bin/env bash
# The one prepared check for a lent GPU machine: device tests, a correctness sweep and the timing table
# (attnbench's cudnn.sdpa and cuda.math against PyTorch SDPA), all written to $OUT. Builds nothing.
# Run from the repository root with the binaries packed by scripts/package-device.sh in .device/:
#   OUT=/some/dir scripts/gpu-check.sh        (default OUT: ./gpu-check-out)
# Optional: ATTNBENCH_DEVICE_DIR (default .device), GPU_CHECK_SKIP="tests correctness timing torch cp nccl python"
# (python: both Python-bridge steps; python-smoke or python-study: one), ATTNBENCH_DEVICE_PYTHON (the
# interpreter whose packages the Python bridge uses; default: python3 on PATH).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
OUT="${OUT:-./gpu-check-out}"
dev="${ATTNBENCH_DEVICE_DIR:-.device}"
skip=" ${GPU_CHECK_SKIP:-} "
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }

# The timing policy, shared by attnbench (--set) and the PyTorch script.
WARMUP=2 MIN_ITERS=8 MAX_ITERS=20 MIN_TIME_S=0.2 MAX_NOISE_PCT=3 TIMEOUT_S=10

# Shared libraries: ours (.device/lib), then cuDNN/cuBLAS/cudart from the Python wheels
# (site-packages/nvidia/<pkg>/lib, and nvidia/cu13/lib for the CUDA 13 wheels).
wheel_libs="$(python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = []
for get in (site.getsitepackages, lambda: [site.getusersitepackages()]):
    try:
        roots += get()
    except Exception:
        pass
roots += [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))]
try:
    import nvidia
    roots += [os.path.dirname(p) for p in nvidia.__path__]
except Exception:
    pass
dirs = []
for r in roots:
    for pattern in ("nvidia/*/lib", "nvidia/*/lib64", "nvidia/cu13/lib", "nvidia/cu13/lib64"):
        for d in sorted(glob.glob(os.path.join(r, pattern))):
            d = os.path.realpath(d)
            if os.path.isdir(d) and d not in dirs:
                dirs.append(d)
print(":".join(dirs))
PY
)"
export LD_LIBRARY_PATH="$(realpath "$dev/lib" 2>/dev/null || echo "$dev/lib")${wheel_libs:+:$wheel_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  cat "$dev/MANIFEST" 2>/dev/null | head -3
  ldd "$dev/attnbench"
} > "$OUT/env.txt" 2>&1
if ldd "$dev/attnbench" "$dev/test_cuda_gpu" | grep -q "not found"; then
  note "FAIL libraries: $(ldd "$dev/attnbench" "$dev/test_cuda_gpu" | grep 'not found' | sort -u | tr -s ' \t\n' ' ')"
  exit 1
fi
note "device: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"

status=0
last_rc=0
step() {  # step NAME TIMEOUT_S COMMAND...: runs, logs to $OUT/NAME.log, records the outcome
  local name="$1" limit="$2"; shift 2
  if [[ "$skip" == *" $name "* ]]; then note "SKIP $name (GPU_CHECK_SKIP)"; return 0; fi
  local t0=$SECONDS rc=0
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
  last_rc=$rc
  if [ "$rc" -eq 0 ]; then note "PASS $name ($((SECONDS - t0)) s)"; else
    note "FAIL $name (exit $rc after $((SECONDS - t0)) s; see $OUT/$name.log)"; status=1; fi
  return 0
}

# 1. Device tests (exit 77 would mean: no usable device; that is a failure here).
step tests 120 "$dev/test_cuda_gpu" --durations yes
if [ "$last_rc" -eq 77 ]; then  # the binary found no usable device: nothing else can run
  note "FAIL no usable CUDA device: $(tail -1 "$OUT/tests.log")"
  exit 1
fi
step host-tests 60 "$dev/test_cuda_host"
step flash-check 90 "$dev/cuda_flash_gpu_check"

# 2. Correctness sweep: every mask on every CUDA backend, fwd and bwd, bf16, against the reference.
step correctness 150 "$dev/attnbench" run scenarios/gpu-correctness.yaml --out "$OUT/correctness" --quiet
if [ -f "$OUT/correctness/results.csv" ]; then
  python3 scripts/gpu_timing_table.py summary "$OUT/correctness/results.csv" | tee -a "$summary"
  grep -q -E ',(mismatch|error),' "$OUT/correctness/results.csv" && { note "FAIL correctness rows (mismatch/error)"; status=1; }
fi

# 3. Timing: attnbench and PyTorch SDPA (cuDNN and flash) on the study's shape, same policy.
timing=(--set "timing.warmup=$WARMUP" --set "timing.min_iters=$MIN_ITERS" --set "timing.max_iters=$MAX_ITERS"
        --set "timing.min_time_s=$MIN_TIME_S" --set "timing.max_noise_pct=$MAX_NOISE_PCT" --set "timing.timeout_s=$TIMEOUT_S")
step timing 120 "$dev/attnbench" run scenarios/gpu-study.yaml --out "$OUT/study" --quiet "${timing[@]}"
step torch 90 python3 scripts/torch_sdpa_bench.py --out "$OUT/torch_sdpa.csv" \
  --batch 1 --heads-q 64 --heads-kv 8 --head-dim 128 --seqlens 4096 16384 --masks full causal \
  --passes fwd bwd --warmup "$WARMUP" --min-iters "$MIN_ITERS" --max-iters "$MAX_ITERS" \
  --min-time-s "$MIN_TIME_S" --max-noise-pct "$MAX_NOISE_PCT" --timeout-s "$TIMEOUT_S"
if [ -f "$OUT/study/results.csv" ]; then
  python3 scripts/gpu_timing_table.py table "$OUT/study/results.csv" "$OUT/torch_sdpa.csv" > "$OUT/timing-table.md" 2>&1
  cat "$OUT/timing-table.md" | tee -a "$summary"
fi
# 4. cuda.flash on every mask against FlexAttention built from the same masks (issue 9's table).
step flash-masks 240 "$dev/attnbench" run scenarios/gpu-flash-masks.yaml --out "$OUT/flash-masks" --quiet "${timing[@]}"
step flex 200 python3 scripts/flex_bench.py --attnbench "$dev/attnbench" --out "$OUT/flex.csv" \
  --masks causal share_question causal_blockwise prefix_lm_causal prefix_lm_document \
  global_sliding_window block_causal_document block_sparse \
  --warmup "$WARMUP" --min-iters "$MIN_ITERS" --max-iters "$MAX_ITERS" \
  --min-time-s "$MIN_TIME_S" --max-noise-pct "$MAX_NOISE_PCT" --timeout-s "$TIMEOUT_S"

# 5. Context parallelism on one GPU: 4 MPI ranks share the device (scenarios/gpu-cp.yaml: CP strategies
#    on cuda.flash and cuda.math at world sizes 2 and 4), launched by the Open MPI carried in the
#    package (mpi-env.sh, written by scripts/package-openmpi.sh; the device has no Open MPI).
cp_step() {
  if [[ "$skip" == *" cp "* ]]; then note "SKIP cp (GPU_CHECK_SKIP)"; return 0; fi
  if [ ! -f "$dev/mpi-env.sh" ] || ! ldd "$dev/attnbench" | grep -q 'libmpi\.so'; then
    note "SKIP cp (no MPI in $dev: build with -DATTNBENCH_WITH_MPI=ON and repack)"; return 0
  fi
  # A child shell sources mpi-env.sh so that its PATH/LD_LIBRARY_PATH/OPAL_*/PMIX_* stay out of the other steps.
  step cp 180 bash -c 'source "$1/mpi-env.sh" && exec mpirun -np 4 "$1/attnbench" run scenarios/gpu-cp.yaml \
    --out "$2" --quiet' cp-launch "$dev" "$OUT/cp"
  grep -h "rows:" "$OUT/cp.log" 2>/dev/null | tail -1 | tee -a "$summary"
  if [ -f "$OUT/cp/results.csv" ] && grep -q -E ',(mismatch|error),' "$OUT/cp/results.csv"; then
    note "FAIL cp rows (mismatch/error)"; status=1
  elif [ -f "$OUT/cp/results.csv" ] && ! grep -q ',ok,' "$OUT/cp/results.csv"; then
    note "FAIL cp rows (none ok: CP on the CUDA backends did not run)"; status=1
  fi
}
cp_step

# --- 5b. comm: nccl (issue 20; docs/nccl.md) ----------------------------------------------------
# nccl-probe: the MPI-bootstrapped NCCL communicator on this GPU (a grouped ring step and an uneven
# all-gather of device buffers) at 1 rank, then 2 ranks on the one GPU (NCCL >= 2.30 with
# NCCL_MULTI_RANK_GPU_ENABLE=1; a FAIL at 2 with a PASS at 1 means the multi-rank mode did not work).
# cp-nccl: every strategy with comm: host and comm: nccl (scenarios/gpu-cp-nccl.yaml).
# libnccl.so.2 is opened at run time: ATTNBENCH_NCCL_LIBRARY, else one carried in $dev/lib, else the loader's.
nccl_steps() {
  if [[ "$skip" == *" nccl "* ]]; then note "SKIP nccl (GPU_CHECK_SKIP)"; return 0; fi
  if [ ! -x "$dev/nccl_probe" ]; then note "SKIP nccl (no nccl_probe in $dev: the build found no nccl.h)"; return 0; fi
  if [ -z "${ATTNBENCH_NCCL_LIBRARY:-}" ] && [ -f "$dev/lib/libnccl.so.2" ]; then
    export ATTNBENCH_NCCL_LIBRARY="$(realpath "$dev/lib/libnccl.so.2")"
  fi
  note "nccl library: ${ATTNBENCH_NCCL_LIBRARY:-libnccl.so.2 from the loader path}"
  step nccl-probe-1 60 "$dev/nccl_probe"
  if [ -f "$dev/mpi-env.sh" ] && ldd "$dev/nccl_probe" | grep -q 'libmpi\.so'; then
    step nccl-probe-2 90 bash -c 'source "$1/mpi-env.sh" && exec mpirun -np 2 -x NCCL_MULTI_RANK_GPU_ENABLE=1 \
      -x ATTNBENCH_NCCL_LIBRARY "$1/nccl_probe"' nccl-launch "$dev"
    step cp-nccl 180 bash -c 'source "$1/mpi-env.sh" && exec mpirun -np 2 -x NCCL_MULTI_RANK_GPU_ENABLE=1 \
      -x ATTNBENCH_NCCL_LIBRARY "$1/attnbench" run scenarios/gpu-cp-nccl.yaml --out "$2" --quiet' \
      cp-nccl-launch "$dev" "$OUT/cp-nccl"
    if [ -f "$OUT/cp-nccl/results.csv" ]; then
      grep -q -E ',(mismatch|error),' "$OUT/cp-nccl/results.csv" && { note "FAIL cp-nccl rows (mismatch/error)"; status=1; }
      # The reason comm: nccl rows give on this device, once.
      grep -o 'comm: nccl[^,"]*' "$OUT/cp-nccl/results.csv" | sort -u | head -3 | sed 's/^/cp-nccl: /' | tee -a "$summary"
    fi
  else
    note "SKIP nccl-probe-2, cp-nccl (no MPI in $dev)"
  fi
}
nccl_steps

# --- 6. The Python bridge (issue 10), when .device/python is packed -----------------------------
# PyTorch SDPA (4 forced backends), FlexAttention and FlashAttention through the embedded Python,
# timed by the harness. Its environment (scripts/device-python-env.sh: the packed stdlib as
# PYTHONHOME, the device venv's site-packages) goes to these two steps only, through `env`.
python_bridge_steps() {
  local env_out
  if [[ "$skip" == *" python "* ]]; then note "SKIP python (GPU_CHECK_SKIP)"; return 0; fi
  if [ ! -f "$dev/python/VERSION" ]; then note "SKIP python (no Python bridge packed in $dev)"; return 0; fi
  if ! env_out="$(source scripts/device-python-env.sh 2> "$OUT/python-env.txt" &&
                  device_python_env "$dev" >> "$OUT/python-env.txt" 2>&1 &&
                  printf '%s\n' "ATTNBENCH_PYTHON_PATH=$ATTNBENCH_PYTHON_PATH" "PYTHONHOME=$PYTHONHOME" \
                    "PYTHONPATH=$PYTHONPATH" "VIRTUAL_ENV=${VIRTUAL_ENV:-}" "LD_LIBRARY_PATH=$LD_LIBRARY_PATH")"; then
    note "FAIL python environment: $(tail -1 "$OUT/python-env.txt")"; status=1; return 0
  fi
  local py_env=()
  mapfile -t py_env <<< "$env_out"
  note "$(tail -1 "$OUT/python-env.txt")"
  # Small and checked first: every module on five masks (fails fast if torch does not import).
  step python-smoke 240 env "${py_env[@]}" "$dev/attnbench" run scenarios/gpu-python-smoke.yaml \
    --out "$OUT/python-smoke" --quiet
  step python-study 420 env "${py_env[@]}" "$dev/attnbench" run scenarios/gpu-python.yaml --out "$OUT/python" \
    --quiet "${timing[@]}"
  local csv
  for csv in "$OUT/python-smoke/results.csv" "$OUT/python/results.csv"; do
    [ -f "$csv" ] || continue
    python3 scripts/gpu_timing_table.py summary "$csv" | tee -a "$summary"  # with the unsupported reasons
    if grep -q "torch is not importable" "$csv"; then note "FAIL python: torch does not import in the embedded Python ($csv)"; status=1; fi
    grep -q -E ',(mismatch|error),' "$csv" && { note "FAIL python rows (mismatch/error) in $csv"; status=1; }
  done
  return 0
}
python_bridge_steps
# ------------------------------------------------------------------------------------------------
note "overall: $([ "$status" -eq 0 ] && echo PASS || echo FAIL)"
exit "$status"
