#!/usr/bin/env bash
# CI gate: run scenarios/ci.yaml, compare with a baseline, write Markdown and JUnit; exit with compare's code.
#
# Usage: scripts/ci-gate.sh [options] [-- extra `attnbench compare` options]
#   --baseline FILE        stored baseline results.json (default: ci/baseline.json)
#   --baseline-bin PATH    instead of a stored file, run the scenario with this attnbench
#                          (e.g. built from the target branch) on this machine too: A/B on
#                          the same runner. With --metric time the two binaries alternate in
#                          --rounds short rounds (order random per round) and compare judges
#                          the paired ratios with a bootstrap interval
#   --metric M             auto (default), instructions or time. auto: instructions retired
#                          (deterministic) when perf_event_open works or valgrind is installed,
#                          else time. Says which it used
#   --rounds N             interleaved rounds of --baseline-bin with --metric time (default 5)
#   --fail-on LIST         classes that fail (default slower,broken,missing)
#   --update-baseline      after the run, copy results.json to --baseline (and pass)
#   --scenario FILE        default: scenarios/ci.yaml
#   --out DIR              default: results/ci (results.*, compare.md, compare.junit.xml)
#   --threshold PCT        passed to compare (default 5)
# Environment: ATTNBENCH_BIN (the attnbench to test; default: build it with scripts/setup.sh);
#   OMP_NUM_THREADS (default 1 here: see docs/ci-gate.md, "False alarms").
# Exit: 0 nothing regressed, 1 regression, 2 bad input (missing baseline, bad scenario, runs
#   that hardly pair).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baseline="$root/ci/baseline.json"
baseline_bin=""
update=0
metric=auto
rounds=5
fail_on=slower,broken,missing
scenario="$root/scenarios/ci.yaml"
out="$root/results/ci"
compare_extra=()

while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline="$2"; shift 2 ;;
    --baseline-bin) baseline_bin="$2"; shift 2 ;;
    --update-baseline) update=1; shift ;;
    --metric) metric="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --fail-on) fail_on="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --threshold) compare_extra+=(--threshold "$2"); shift 2 ;;
    --) shift; compare_extra+=("$@"); break ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci-gate: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "${ATTNBENCH_BIN:-}" ]; then
  bin="$ATTNBENCH_BIN"
else
  # shellcheck disable=SC1091  # setup.sh sits beside this script
  source "$root/scripts/setup.sh"
  attnbench_setup attnbench
  bin="$ATTNBENCH_BUILD/attnbench"
fi
[ -x "$bin" ] || { echo "ci-gate: $bin is not an executable attnbench" >&2; exit 2; }

if [ "$update" -eq 0 ] && [ -z "$baseline_bin" ] && [ ! -f "$baseline" ]; then
  echo "ci-gate: no baseline at $baseline; record one on the CI machine with" \
       "'scripts/ci-gate.sh --update-baseline', or use --baseline-bin" >&2
  exit 2
fi

# On a shared machine, OpenMP threads waiting at a barrier for a descheduled
# sibling turn a 0.5 ms iteration into a 70 ms one often enough to move the
# median; one thread per process keeps the medians comparable between runs.
# (Counted instructions need it too: spinning threads add instructions.)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

mkdir -p "$out"
echo "ci-gate: $(uptime)"  # the load while measuring: noisy neighbours explain ambiguous rows

# The metric: instructions retired are deterministic, so a loaded runner cannot fake a change.
# Hardware counters when the kernel allows; else callgrind (slow, but exact); else time.
counter=""
if [ "$metric" = auto ] || [ "$metric" = instructions ]; then
  if "$bin" run "$scenario" --dry-run --set timing.metric=instructions >/dev/null 2>&1; then
    counter=perf
  elif command -v valgrind >/dev/null 2>&1; then
    counter=callgrind
  elif [ "$metric" = instructions ]; then
    echo "ci-gate: --metric instructions: neither perf_event_open nor valgrind works here" >&2; exit 2
  fi
elif [ "$metric" != time ]; then
  echo "ci-gate: --metric '$metric' (accepted: auto, instructions, time)" >&2; exit 2
fi
run_args=()
runner=()
if [ -n "$counter" ]; then
  # Deterministic: one warm-up and few iterations suffice (docs/ci-gate.md).
  iters=3; [ "$counter" = callgrind ] && iters=1
  run_args=(--set timing.metric=instructions --set timing.warmup=1 --set "timing.min_iters=$iters")
  if [ "$counter" = callgrind ]; then
    export ATTNBENCH_CALLGRIND_OUT="$out/callgrind.out.%p"
    runner=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$ATTNBENCH_CALLGRIND_OUT" -q)
  fi
  echo "ci-gate: metric: instructions retired per iteration ($counter)"
else
  echo "ci-gate: metric: median time$([ -n "$baseline_bin" ] && echo ", $rounds interleaved rounds")"
fi

# A correctness failure makes `run` exit 1; compare reports it as a broken row, so go on.
run_scenario() {  # binary, output folder, extra run options...
  local rc=0 b="$1" o="$2"
  shift 2
  "${runner[@]}" "$b" run "$scenario" --out "$o" --quiet "${run_args[@]}" "$@" >"$o.log" 2>&1 || rc=$?
  if [ "$rc" -ge 2 ]; then
    echo "ci-gate: '$b run $scenario' failed with exit $rc:" >&2; tail -5 "$o.log" >&2; exit 2
  fi
}

rounds_args=()
if [ -n "$baseline_bin" ]; then
  [ -x "$baseline_bin" ] || { echo "ci-gate: --baseline-bin $baseline_bin is not executable" >&2; exit 2; }
  n=1; [ -z "$counter" ] && n="$rounds"
  for ((r = 1; r <= n; r++)); do
    # Later rounds only time (the first one checked correctness); the order is random per
    # round, so drift in the machine's load does not fall on one binary.
    extra=(); [ "$r" -gt 1 ] && extra=(--set check.enabled=false --set timing.min_time_s=0.05)
    dir_b="$out/baseline"; dir_c="$out"
    if [ "$r" -gt 1 ]; then dir_b="$out/rounds/$r/baseline"; dir_c="$out/rounds/$r/current"; fi
    mkdir -p "$dir_b" "$dir_c"
    if [ $((RANDOM % 2)) -eq 0 ]; then
      run_scenario "$baseline_bin" "$dir_b" "${extra[@]}"; run_scenario "$bin" "$dir_c" "${extra[@]}"
    else
      run_scenario "$bin" "$dir_c" "${extra[@]}"; run_scenario "$baseline_bin" "$dir_b" "${extra[@]}"
    fi
    [ "$r" -gt 1 ] && rounds_args+=(--baseline-round "$dir_b/results.json" --current-round "$dir_c/results.json")
  done
  baseline="$out/baseline/results.json"
else
  run_scenario "$bin" "$out"
fi

rm -f "$out"/callgrind.out.* 2>/dev/null || true  # the final dumps valgrind writes at exit
if [ "$update" -eq 1 ]; then
  mkdir -p "$(dirname "$baseline")"
  cp "$out/results.json" "$baseline"
  echo "ci-gate: baseline updated: $baseline"
  exit 0
fi
rc=0
"$bin" compare "$baseline" "$out/results.json" --quiet --fail-on "$fail_on" "${rounds_args[@]}" \
  --md "$out/compare.md" --junit "$out/compare.junit.xml" "${compare_extra[@]}" || rc=$?
# GitHub Actions shows this file on the run's summary page.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out/compare.md" ]; then
  cat "$out/compare.md" >> "$GITHUB_STEP_SUMMARY"
fi
[ -f "$out/compare.md" ] && echo "ci-gate: report in $out/compare.md, JUnit in $out/compare.junit.xml"
exit "$rc"
