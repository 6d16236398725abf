#!/usr/bin/env bash
# Packs the prebuilt binaries and the shared libraries a stock GPU machine lacks into .device/ (carried by the lead).
# Usage: scripts/package-device.sh [BUILD_DIR] [DEST]   (defaults: build/release, .device)
# Left out on purpose: glibc/libstdc++/libgcc (the device's are newer), the CUDA driver, and
# cuDNN/cuBLAS/cudart, which gpu-check.sh takes from the device's PyTorch wheels (nvidia/*/lib).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
dest="${2:-$root/.device}"
binaries=("$build/attnbench")
# A CPU-only build (ATTNBENCH_WITH_CUDA=OFF) has no device tests; it is packed to try the MPI runtime.
if ! grep -q '^ATTNBENCH_WITH_CUDA:BOOL=OFF' "$build/CMakeCache.txt" 2>/dev/null; then
  binaries+=("$build/tests/backends/cuda/test_cuda_gpu" "$build/tests/backends/cuda/test_cuda_host"
             "$build/tests/backends/cuda/flash/cuda_flash_gpu_check")
  # comm: nccl's communicator check, when the build found nccl.h (libnccl.so.2 is opened at run time:
  # gpu-check.sh finds the device's, or one carried in $dest/lib, see docs/nccl.md).
  [ -x "$build/tests/backends/cuda/nccl_probe" ] && binaries+=("$build/tests/backends/cuda/nccl_probe")
fi
for b in "${binaries[@]}"; do
  [ -x "$b" ] || { echo "package-device: $b not built (cmake --build $build)" >&2; exit 2; }
done
rm -rf "$dest"
mkdir -p "$dest/lib"
cp "${binaries[@]}" "$dest/"
# Debug symbols are not needed on the device and count against the carry limit.
for b in "${binaries[@]}"; do
  command -v strip >/dev/null && strip --strip-unneeded "$dest/$(basename "$b")"
done

# With MPI (ATTNBENCH_WITH_MPI=ON) the device needs mpirun too: package-openmpi.sh carries a
# relocatable Open MPI in $dest/openmpi and $dest/mpi-env.sh; its ELF files' libraries go to $dest/lib.
elf_files=("${binaries[@]}")
if ldd "$build/attnbench" | grep -q 'libmpi\.so'; then
  mpi_files="$("$root/scripts/package-openmpi.sh" "$dest")"   # fails the packing if it fails
  mapfile -t -O "${#elf_files[@]}" elf_files <<< "$mpi_files"
fi

# Provided by the device machine: the C/C++ runtime and CUDA (driver; toolkit libraries via the wheels).
system_re='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv|libstdc\+\+|libgcc_s|libcuda|libcudnn|libcublas|libcublasLt|libcudart|libnvrtc|libnvJitLink)(\.|-|_)'
missing=0
for b in "${elf_files[@]}"; do
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
# The Open MPI runtime takes a CUDA+MPI package past 64 MiB unpacked (67 MiB); xz-tarred it is about 12 MB.
if [ "$(du -sm "$dest" | cut -f1)" -gt 64 ]; then
  echo "package-device: over 64 MiB unpacked: carry it xz-tarred, e.g. tar cJf .devpack/device.tar.xz -C $(dirname "$dest") $(basename "$dest")"
fi
ls "$dest/lib"
