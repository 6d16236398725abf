#!/usr/bin/env bash
# Runs the tests: install what is missing, build everything in Release, run ctest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
attnbench_setup
cd "$ATTNBENCH_BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 600
