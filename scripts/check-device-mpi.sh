#!/usr/bin/env bash
# Proves a device package's carried Open MPI works alone: CP cases at -np 2 and 4 with the system Open MPI hidden.
# Usage (as root, needs unshare): scripts/check-device-mpi.sh PACKAGE_DIR [WORK_DIR]
#   PACKAGE_DIR: made by scripts/package-device.sh from an MPI build (CPU-only is enough: cpu.flash).
#   WORK_DIR:    results and loader logs (default /tmp/check-device-mpi).
# In a private mount namespace, Debian's Open MPI, PMIx, hwloc plugins, /etc/openmpi and ssh are
# covered by empty folders / /dev/null, so nothing but the package can be found. Each run starts
# from `env -i`, sources PACKAGE_DIR/mpi-env.sh, and records every object the loader maps
# (LD_DEBUG=libs, one log per process); any MPI, PMIx or plugin object not from the package fails.
# CHECK_DEVICE_MPI_NO_HIDE=1 runs the same without the namespace (the system copy stays visible).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$(realpath "${1:?usage: scripts/check-device-mpi.sh PACKAGE_DIR [WORK_DIR]}")"
work="${2:-/tmp/check-device-mpi}"
[ -f "$pkg/mpi-env.sh" ] || { echo "check-device-mpi: $pkg/mpi-env.sh missing (package an MPI build)" >&2; exit 2; }

if [ "${CHECK_DEVICE_MPI_NO_HIDE:-0}" != 1 ] && [ "${_CHECK_DEVICE_MPI_INNER:-0}" != 1 ]; then
  exec unshare --mount env _CHECK_DEVICE_MPI_INNER=1 "$0" "$@"
fi

if [ "${_CHECK_DEVICE_MPI_INNER:-0}" = 1 ]; then
  mount --make-rprivate /
  empty="$(mktemp -d)"
  multiarch=/usr/lib/x86_64-linux-gnu
  hidden=0
  for d in "$multiarch/openmpi" "$multiarch/pmix2" "$multiarch/hwloc" /usr/share/openmpi /etc/openmpi; do
    [ -d "$d" ] && mount --bind "$empty" "$d" && hidden=$((hidden + 1))
  done
  for f in /usr/bin/orterun /usr/bin/orted /usr/bin/mpirun.openmpi /usr/bin/mpiexec.openmpi /usr/bin/ssh /usr/bin/rsh \
           "$multiarch"/libmpi*.so.* "$multiarch"/libopen-rte.so.* "$multiarch"/libopen-pal.so.* \
           "$multiarch"/libpmix.so.* "$multiarch"/libmca_common_*.so.* "$multiarch"/libhwloc.so.* \
           "$multiarch"/libevent*.so.* "$multiarch"/libmunge.so.*; do
    [ -f "$f" ] && [ ! -L "$f" ] && mount --bind /dev/null "$f" && hidden=$((hidden + 1))
  done
  echo "check-device-mpi: hid $hidden system Open MPI/PMIx paths (in a private mount namespace)"
  if mpirun --version >/dev/null 2>&1; then
    echo "check-device-mpi: the system mpirun still runs; hiding failed" >&2; exit 1
  fi
fi

rm -rf "$work"
mkdir -p "$work"
cd "$root"
status=0
for np in 2 4; do
  mkdir -p "$work/ld-np$np"
  # Two strategies on one mask keep it short; the scenario checks every row against the reference.
  env -i PATH=/usr/bin:/bin HOME="${HOME:-/root}" PKG="$pkg" NP="$np" WORK="$work" bash -c '
    set -euo pipefail
    source "$PKG/mpi-env.sh"
    echo "mpirun: $(command -v mpirun)"
    ldd "$PKG/attnbench" | grep -E "libmpi|libopen-|libpmix|libhwloc|libevent|not found"
    export LD_DEBUG=libs LD_DEBUG_OUTPUT="$WORK/ld-np$NP/ld"
    mpirun -np "$NP" "$PKG/attnbench" run scenarios/cp-cpu.yaml --out "$WORK/np$NP" \
      --set "world_sizes=[$NP]" --set "seqlens=[1024]" --set "strategies=[ring_zigzag, ulysses]" \
      --set "masks=[causal]" --set "options.balance=[tokens]" --set "timing.warmup=0" \
      --set "timing.min_iters=1" --set "timing.max_iters=1"
  ' > "$work/np$np.log" 2>&1 || { echo "check-device-mpi: -np $np failed (see $work/np$np.log)"; status=1; }
  tail -2 "$work/np$np.log" | head -1
  grep -q "rows: \([0-9]*\) ok, 0 mismatch, 0 unsupported, 0 oom, 0 error" "$work/np$np.log" \
    || { echo "check-device-mpi: -np $np: not every row ok"; status=1; }
  # Every MPI/PMIx/hwloc/libevent object and every plugin (hwloc's too) must come from the package.
  loaded="$( (grep -h 'calling init: ' "$work/ld-np$np"/ld.* 2>/dev/null || true) | sed -E 's/.*calling init: //' | sort -u)"
  foreign="$(grep -E 'libmpi|libopen-(rte|pal)|libpmix|libhwloc|libevent|libmca_common|mca_|pmix_mca_|/hwloc/' <<< "$loaded" |
             grep -v "^$pkg/" || true)"
  plugins="$(grep -cE '/(mca|pmix_mca)_[a-z0-9_]+\.so$' <<< "$loaded" || true)"
  procs="$(ls "$work/ld-np$np" | wc -l)"
  echo "check-device-mpi: -np $np: $procs processes, $plugins distinct plugins loaded, all from $pkg: $([ -z "$foreign" ] && echo yes || echo NO)"
  [ -z "$foreign" ] || { echo "$foreign" | sed 's/^/  not from the package: /'; status=1; }
done
echo "check-device-mpi: $([ "$status" -eq 0 ] && echo PASS || echo FAIL)"
exit "$status"
