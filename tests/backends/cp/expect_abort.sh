#!/usr/bin/env bash
# Runs the abort test under mpirun: passes when the job ends (no hang), non-zero, naming the failure.
set -u
mpiexec=$1 binary=$2 np=${3:-2}
out=$(timeout 120 "$mpiexec" --allow-run-as-root --oversubscribe -np "$np" -x OMP_NUM_THREADS=1 "$binary" "[abort]" 2>&1)
rc=$?
echo "$out" | tail -20
if [ "$rc" -eq 124 ]; then echo "FAIL: the job hung (killed after 120 s)"; exit 1; fi
if [ "$rc" -eq 0 ]; then echo "FAIL: the job exited 0"; exit 1; fi
if ! echo "$out" | grep -q "fatal on world rank .*injected run failure"; then
  echo "FAIL: no clear fatal message"; exit 1
fi
echo "PASS: job ended with exit code $rc"
