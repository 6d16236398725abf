#!/usr/bin/env bash
# Fetches header-only pybind11 (PyPI wheel, with its CMake config) into DIR and prints the folder to pass as pybind11_DIR.
# Usage: scripts/fetch-pybind11.sh DIR   (e.g. build/_deps). Needed to embed Python >= 3.12: Debian 12's
# pybind11 (2.10) predates it (3.12 support came with 2.11). Prints nothing and exits 1 when it cannot.
set -euo pipefail
dir="${1:?usage: fetch-pybind11.sh DIR}/pybind11"
version="${ATTNBENCH_PYBIND11_VERSION:-2.13.6}"
config="$dir/pybind11/share/cmake/pybind11"
"$(dirname "$0")/fetch-wheel.sh" "$dir" "pybind11==$version" "$config/pybind11Config.cmake" || exit 1
(cd "$config" && pwd)  # absolute: CMake ignores a relative pybind11_DIR
