#!/usr/bin/env bash
# Quick start: install what is missing, build, and run scenarios/quickstart.yaml on the CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
attnbench_setup attnbench
out="${1:-$ATTNBENCH_ROOT/results/quickstart}"
"$ATTNBENCH_BUILD/attnbench" run "$ATTNBENCH_ROOT/scenarios/quickstart.yaml" --out "$out"
echo "Reports: $out/results.md, $out/results.csv, $out/results.json"
