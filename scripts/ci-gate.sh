#!/usr/bin/env bash
# CI gate: run scenarios/ci.yaml, compare with a baseline, write Markdown and JUnit; exit with compare's code.
#
# Usage: scripts/ci-gate.sh [options] [-- extra `attnbench compare` options]
#   --baseline FILE        stored baseline results.json (default: ci/baseline.json)
#   --baseline-bin PATH    instead of a stored file, run the scenario with this attnbench
#                          (e.g. built from the target branch) on this machine first: A/B on
#                          the same runner, the robust choice on shared CI machines
#   --update-baseline      after the run, copy results.json to --baseline (and pass)
#   --scenario FILE        default: scenarios/ci.yaml
#   --out DIR              default: results/ci (results.*, compare.md, compare.junit.xml)
#   --threshold PCT        passed to compare (default 5)
# Environment: ATTNBENCH_BIN (the attnbench to test; default: build it with scripts/setup.sh);
#   OMP_NUM_THREADS (default 1 here: see docs/ci-gate.md, "False alarms").
# Exit: 0 nothing regressed, 1 regression, 2 bad input (missing baseline, bad scenario).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baseline="$root/ci/baseline.json"
baseline_bin=""
update=0
scenario="$root/scenarios/ci.yaml"
out="$root/results/ci"
compare_extra=()

while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline="$2"; shift 2 ;;
    --baseline-bin) baseline_bin="$2"; shift 2 ;;
    --update-baseline) update=1; shift ;;
    --scenario) scenario="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --threshold) compare_extra+=(--threshold "$2"); shift 2 ;;
    --) shift; compare_extra+=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

mkdir -p "$out"
echo "ci-gate: $(uptime)"  # the load while measuring: noisy neighbours explain ambiguous rows

# A correctness failure makes `run` exit 1; compare reports it as a broken row, so go on.
run_scenario() {  # binary, output folder
  local rc=0
  "$1" run "$scenario" --out "$2" --quiet || rc=$?
  if [ "$rc" -ge 2 ]; then echo "ci-gate: '$1 run $scenario' failed with exit $rc" >&2; exit 2; fi
}

if [ -n "$baseline_bin" ]; then
  [ -x "$baseline_bin" ] || { echo "ci-gate: --baseline-bin $baseline_bin is not executable" >&2; exit 2; }
  run_scenario "$baseline_bin" "$out/baseline"
  baseline="$out/baseline/results.json"
fi
run_scenario "$bin" "$out"

if [ "$update" -eq 1 ]; then
  mkdir -p "$(dirname "$baseline")"
  cp "$out/results.json" "$baseline"
  echo "ci-gate: baseline updated: $baseline"
  exit 0
fi
rc=0
"$bin" compare "$baseline" "$out/results.json" --quiet \
  --md "$out/compare.md" --junit "$out/compare.junit.xml" "${compare_extra[@]}" || rc=$?
# GitHub Actions shows this file on the run's summary page.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out/compare.md" ]; then
  cat "$out/compare.md" >> "$GITHUB_STEP_SUMMARY"
fi
[ -f "$out/compare.md" ] && echo "ci-gate: report in $out/compare.md, JUnit in $out/compare.junit.xml"
exit "$rc"
