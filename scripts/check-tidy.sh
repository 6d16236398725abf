#!/usr/bin/env bash
# Runs the .clang-tidy checks over the C++ sources of a configured build (default build/release); exit 1 on a finding.
# Usage: scripts/check-tidy.sh [BUILD_DIR]   (CUDA sources are left out: clang-tidy cannot parse nvcc's flags)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/release}"
[ -f "$build/compile_commands.json" ] || { echo "check-tidy: no $build/compile_commands.json (configure first)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' | grep -v '^examples/')
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 8 clang-tidy -p "$build" --quiet 2>&1 |
  grep -v -e 'warnings generated' -e 'Suppressed' -e 'Use -header-filter' -e 'display errors from all' |
  tee /tmp/check-tidy.log
! grep -q -e 'error:' -e 'warning:' /tmp/check-tidy.log
