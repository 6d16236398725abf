#!/usr/bin/env bash
# Installs what attnbench needs on Debian/Ubuntu (apt, as root or via sudo) and builds it in Release.
# Sourced by quickstart.sh and test.sh; usage: source scripts/setup.sh; attnbench_setup [cmake targets...]
set -euo pipefail

ATTNBENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTNBENCH_BUILD="${ATTNBENCH_BUILD:-$ATTNBENCH_ROOT/build/release}"

# Debian package names (Debian 12 / Ubuntu 24.04).
ATTNBENCH_PACKAGES=(
  build-essential cmake ninja-build git pkg-config ccache
  libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev catch2 libbenchmark-dev
  libopenmpi-dev openmpi-bin libopenblas-dev
  gnuplot-nox python3 python3-dev python3-numpy python3-pip pybind11-dev unzip
  valgrind  # --metric instructions where perf_event_open is closed (containers), and its test
)

attnbench_install_packages() {
  local missing=()
  for p in "${ATTNBENCH_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "attnbench: missing packages (${missing[*]}) and no root/sudo to install them" >&2
      return 1
    fi
  fi
  echo "attnbench: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

attnbench_configure() {
  local extra=()
  command -v ccache >/dev/null && extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  # nvcc is often installed outside PATH.
  if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
  # The cuDNN frontend serves only the CUDA build: a runner without nvcc skips the download.
  if [ -x "$ATTNBENCH_ROOT/scripts/fetch-cudnn-frontend.sh" ] && command -v nvcc >/dev/null; then
    local fe
    fe="$("$ATTNBENCH_ROOT/scripts/fetch-cudnn-frontend.sh" "$ATTNBENCH_ROOT/build/_deps" || true)"
    [ -n "$fe" ] && extra+=("-DATTNBENCH_CUDNN_FRONTEND_INCLUDE=$fe")
  fi
  # ATTNBENCH_CMAKE_ARGS: extra configure flags (CI sets -DATTNBENCH_WERROR=ON).
  # shellcheck disable=SC2206
  if [ -n "${ATTNBENCH_CMAKE_ARGS:-}" ]; then extra+=(${ATTNBENCH_CMAKE_ARGS}); fi
  cmake -S "$ATTNBENCH_ROOT" -B "$ATTNBENCH_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@" >/dev/null
}

attnbench_setup() {
  attnbench_install_packages
  attnbench_configure
  cmake --build "$ATTNBENCH_BUILD" -j "$(nproc)" ${1:+--target "$@"}
}
