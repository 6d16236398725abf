#!/usr/bin/env bash
# Launches attnbench (or any command) under Open MPI's mpirun with the flags this machine needs.
#
#   scripts/mpirun.sh -np 4 build/attnbench run scenarios/cp-cpu.yaml --out results/cp-cpu
#
# Adds --allow-run-as-root when run as root, --oversubscribe (and yielding idle
# ranks) when there are more ranks than cores, and no core binding, so that each
# CP case can give its ranks cores / (its ranks on the node) OpenMP threads (the
# runner does this unless OMP_NUM_THREADS is set; a set OMP_NUM_THREADS is passed
# on to every rank). Extra mpirun flags via MPIRUN_FLAGS, e.g. "--hostfile hosts".
set -euo pipefail

np=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -np|-n) np="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$np" ] || [ ${#args[@]} -eq 0 ]; then
  echo "usage: scripts/mpirun.sh -np N COMMAND [ARGS...]" >&2
  exit 2
fi

cores=$(nproc)
flags=(-np "$np")
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
if [ "$np" -gt "$cores" ]; then
  flags+=(--oversubscribe --mca mpi_yield_when_idle 1)
fi
flags+=(--bind-to none)
[ -n "${OMP_NUM_THREADS:-}" ] && flags+=(-x OMP_NUM_THREADS)

# shellcheck disable=SC2086
exec mpirun "${flags[@]}" ${MPIRUN_FLAGS:-} "${args[@]}"
