#!/usr/bin/env bash
# Installs one PyPI package (without its dependencies) into DIR with pip --target unless MARKER exists;
# the common step of the fetch-*.sh scripts. Usage: scripts/fetch-wheel.sh DIR REQUIREMENT MARKER
# (MARKER: a file the package puts under DIR). Exits 1 when it cannot (no pip, no network).
set -euo pipefail
dir="$1" requirement="$2" marker="$3"
if [ ! -f "$marker" ]; then
  command -v python3 >/dev/null || exit 1
  mkdir -p "$dir"
  # --target: the package lands in $dir, nothing is installed into the system Python.
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$dir" \
    "$requirement" >&2 || exit 1
fi
[ -f "$marker" ] || exit 1
