#!/usr/bin/env bash
# Packs the prebuilt binaries and the shared libraries a stock GPU machine lacks into .device/ (carried by the lead).
# Usage: scripts/package-device.sh [BUILD_DIR] [DEST]   (defaults: build/release, .device)
# Left out on purpose: glibc/libstdc++/libgcc (the device's are newer), the CUDA driver, and
# cuDNN/cuBLAS/cudart, which gpu-check.sh takes from the device's PyTorch wheels (nvidia/*/lib).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
dest="${2:-$root/.device}"
binaries=("$build/attnbench" "$build/tests/cuda/test_cuda_gpu" "$build/tests/cuda/test_cuda_host"
          "$build/tests/cuda_flash/cuda_flash_gpu_check")
for b in "${binaries[@]}"; do
  [ -x "$b" ] || { echo "package-device: $b not built (cmake --build $build)" >&2; exit 2; }
done
rm -rf "$dest"
mkdir -p "$dest/lib"
cp "${binaries[@]}" "$dest/"
# Debug symbols are not needed on the device and count against the carry limit.
command -v strip >/dev/null && strip --strip-unneeded "$dest"/attnbench "$dest"/test_cuda_* "$dest"/cuda_flash_gpu_check

# Provided by the device machine: the C/C++ runtime and CUDA (driver; toolkit libraries via the wheels).
system_re='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv|libstdc\+\+|libgcc_s|libcuda|libcudnn|libcublas|libcublasLt|libcudart|libnvrtc|libnvJitLink)(\.|-|_)'
missing=0
for b in "${binaries[@]}"; do
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    if [[ "$name" =~ $system_re ]]; then continue; fi
    if [ "$path" = "not" ]; then echo "package-device: $b needs $name, not found here" >&2; missing=1; continue; fi
    cp -Ln "$path" "$dest/lib/$name"
  done < <(ldd "$b")
done
[ "$missing" -eq 0 ] || exit 2
# What the binary will look for on the device (checked there by gpu-check.sh).
{
  echo "# packed $(date -u +%FT%TZ) from $build ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown))"
  for b in "${binaries[@]}"; do echo "## $(basename "$b")"; ldd "$b" | awk '{print $1}'; done
} > "$dest/MANIFEST"
# --- Python bridge (kept apart from the library packing above) -------------------------------
# A build with ATTNBENCH_WITH_PYTHON links libpython (packed above like any library; stripped here,
# as its debug info is most of its size) and needs its modules and stdlib beside it: pack-python.sh.
for libpython in "$dest"/lib/libpython3*.so*; do
  [ -f "$libpython" ] && command -v strip >/dev/null && strip --strip-unneeded "$libpython"
done
"$root/scripts/pack-python.sh" "$build" "$dest"
# ----------------------------------------------------------------------------------------------
du -sh "$dest" | awk '{print "package-device: " $1 " in '"$dest"' (carry it: the run tool limits carried paths to 64 MiB)"}'
ls "$dest/lib"
