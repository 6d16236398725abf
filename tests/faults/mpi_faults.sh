#!/usr/bin/env bash
# Under mpirun -np 2 (with a timeout): an unusable --out and --resume on a damaged results.csv or
# results.json end the job with exit 2 within seconds and the message printed once (by rank 0), not a
# hang; a run stopped by SIGTERM on every rank (as srun delivers it) exits 143 on all ranks with its
# reports complete. usage: ATTNBENCH=... MPIEXEC=... mpi_faults.sh
source "$(dirname "$0")/lib.sh"
MPIEXEC=${MPIEXEC:?mpirun}
cd "$WORK"
cat >cp.yaml <<'YAML'
name: mpi_faults
backends: [cpu.reference]
strategies: [ring]
world_sizes: [1, 2]
masks: [causal, full]
seqlens: [64, 96, 128]
shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}
passes: [fwd]
timing: {warmup: 0, min_iters: 2, max_iters: 3, min_time_s: 0, max_noise_pct: 100, timeout_s: 5}
YAML
mpi() { timeout -k 5 60 "$MPIEXEC" --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS=1 "$ATTNBENCH" "$@"; }

# expect_once NAME PATTERN ARGS...: exit 2 in under 30 s, one error line matching PATTERN
expect_once() {
  local name=$1 pattern=$2 start=$SECONDS rc
  shift 2
  mpi "$@" >log 2>&1; rc=$?
  local took=$((SECONDS - start)) lines
  lines=$(grep -c "^attnbench: error:" log)
  echo "$name: exit $rc in ${took}s, $lines error line(s): $(grep "^attnbench: error:" log | head -1)"
  [[ $rc -eq 2 ]] || { cat log; fail "$name: exit $rc, expected 2 (124: the job hung)"; }
  [[ $lines -eq 1 ]] || { cat log; fail "$name: $lines error lines, expected 1"; }
  grep -Eq "^attnbench: error: $pattern" log || { cat log; fail "$name: message"; }
  [[ $took -lt 30 ]] || fail "$name: took ${took}s"
}

# descendants PID NAME: the processes called NAME below PID
descendants() {
  local kid
  for kid in $(ps -o pid= --ppid "$1"); do
    [[ $(ps -o comm= -p "$kid") == "$2" ]] && echo "$kid"
    descendants "$kid" "$2"
  done
}

touch afile
expect_once "unwritable --out" "afile/out: --out folder cannot be created" run cp.yaml --out afile/out --quiet

mpi run cp.yaml --out good --quiet >log 2>&1 || { cat log; fail "a good run under mpirun"; }
cp -r good cut_csv
head -c 40 good/results.csv >cut_csv/results.csv
expect_once "--resume, cut results.csv" "cut_csv/results.csv: the header line is cut short" run cp.yaml --out cut_csv --resume --quiet
mkdir cut_json
head -c 300 good/results.json >cut_json/results.json
expect_once "--resume, cut results.json" "cut_json/results.json: " run cp.yaml --out cut_json --resume --quiet
expect_once "bad --dump-tensors" "afile/dump: --dump-tensors folder cannot be created" run cp.yaml --out good2 --dump-tensors afile/dump --quiet

# Bad input on rank 1 only (an MPMD launch gives rank 1 another scenario): rank 0 learns it in the
# agreement step, prints it once with the rank, and both exit 2.
printf 'name: broken\nbackends: [cpu.nope]\nmasks: [full]\nseqlens: [8]\n' >bad.yaml
start=$SECONDS
timeout -k 5 60 "$MPIEXEC" --allow-run-as-root --oversubscribe -x OMP_NUM_THREADS=1 -np 1 "$ATTNBENCH" run cp.yaml \
  --out one --quiet : -np 1 "$ATTNBENCH" run bad.yaml --out one --quiet >log 2>&1; rc=$?
echo "bad input on rank 1 only: exit $rc in $((SECONDS - start))s: $(grep "^attnbench: error:" log | head -1)"
[[ $rc -eq 2 ]] || { cat log; fail "rank 1's bad input: exit $rc, expected 2"; }
[[ $(grep -c "^attnbench: error:" log) -eq 1 ]] || { cat log; fail "rank 1's bad input: not one error line"; }
grep -Eq "^attnbench: error: rank 1: .*bad.yaml.*cpu.nope" log || { cat log; fail "rank 1's bad input: message"; }
[[ -e one/results.csv ]] && fail "rank 1's bad input: rank 0 ran cases"

# SIGTERM to every rank (what srun and schedulers deliver; mpirun itself follows SIGTERM with SIGKILL).
sed -i 's/max_iters: 3, min_time_s: 0,/max_iters: 400, min_time_s: 0.2,/' cp.yaml
mpi run cp.yaml --out term --quiet >log 2>&1 & pid=$!
wait_rows term/results.csv 2 $pid || { cat log; fail "the SIGTERM run"; }
ranks=$(descendants $pid attnbench)
[[ $(wc -w <<<"$ranks") -eq 2 ]] || fail "expected 2 ranks under mpirun, found: $ranks"
kill -TERM $ranks
wait $pid; rc=$?
echo "SIGTERM on both ranks: exit $rc, $(rows term/results.csv) rows"
[[ $rc -eq 143 ]] || { cat log; fail "SIGTERM under mpirun: exit $rc, expected 143"; }
grep -q "interrupted by SIGTERM" log || { cat log; fail "no interruption line"; }
python3 -c "import json; json.load(open('term/results.json'))" || fail "results.json after SIGTERM"
