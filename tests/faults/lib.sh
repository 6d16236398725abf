#!/usr/bin/env bash
# Shared helpers of the fault tests: a small scenario, waiting for rows, and the row checker.
set -u
ATTNBENCH=${ATTNBENCH:?the attnbench binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/attnbench-faults.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# scenario FILE NAME SEQLENS: 4 cases per seqlen (full/causal x fwd/bwd) on cpu.reference, each
# about 0.05-0.1 s long, so a test can stop the run between rows.
scenario() {
  cat >"$1" <<YAML
name: $2
backends: [cpu.reference]
masks: [full, causal]
seqlens: $3
shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}
passes: [fwd, bwd]
timing: {warmup: 0, min_iters: 3, max_iters: 40, min_time_s: 0.05, max_noise_pct: 100, timeout_s: 5}
YAML
}

# rows FILE: complete data lines of a results.csv (0 when absent); fast, as tests poll it (the rows of
# these scenarios hold no quoted newlines)
rows() {
  local n=0
  [[ -f $1 ]] && n=$(($(wc -l <"$1") - 1))
  echo $((n < 0 ? 0 : n))
}

# wait_rows FILE N PID: until FILE holds N rows (fails if PID ends first or after 60 s)
wait_rows() {
  local i
  for ((i = 0; i < 12000; ++i)); do
    [[ $(rows "$1") -ge $2 ]] && return 0
    kill -0 "$3" 2>/dev/null || { echo "the run ended before $2 rows" >&2; return 1; }
    sleep 0.005
  done
  echo "timed out waiting for $2 rows in $1" >&2
  return 1
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
