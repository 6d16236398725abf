#!/usr/bin/env bash
# Copies a relocatable Open MPI runtime (mpirun, plugins, help files) into DEST/openmpi for a machine without Open MPI.
# Usage: scripts/package-openmpi.sh DEST     (called by package-device.sh when attnbench links libmpi)
#
# Takes Debian's Open MPI 4.1 (openmpi-bin, libopenmpi3, openmpi-common) and its external PMIx
# (libpmix2). Writes:
#   DEST/openmpi/bin/{mpirun,orted}        orterun and orted (mpirun is a copy, not a link)
#   DEST/openmpi/lib/openmpi3/mca_*.so     the MCA plugins a single-node run can use
#   DEST/openmpi/lib/pmix/pmix_mca_*.so    PMIx's plugins
#   DEST/openmpi/lib/hwloc/                empty: hwloc's plugin folder (none carried)
#   DEST/openmpi/share/{openmpi,pmix}/     help texts (mpirun's error messages read them)
#   DEST/mpi-env.sh                        sourced on the device: points Open MPI and PMIx at these
# and prints the ELF files it copied, one per line, so that package-device.sh can copy the shared
# libraries they need (libmpi, libopen-rte, libopen-pal, libpmix, hwloc, libevent, ...) into DEST/lib.
# Source folders can be overridden for a non-Debian layout: OMPI_PKGLIBDIR, OMPI_PKGDATADIR, PMIX_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:?usage: scripts/package-openmpi.sh DEST}"

ompi_info_path() { ompi_info --path "$1" --parsable 2>/dev/null | cut -d: -f3; }
ompi_pkglib="${OMPI_PKGLIBDIR:-$(ompi_info_path pkglibdir)}"
ompi_pkgdata="${OMPI_PKGDATADIR:-$(ompi_info_path pkgdatadir)}"
pmix_dir="${PMIX_DIR:-/usr/lib/x86_64-linux-gnu/pmix2}"
orterun="$(command -v orterun || true)"
orted="$(command -v orted || true)"
for need in "$ompi_pkglib" "$ompi_pkgdata" "$pmix_dir/lib/pmix" "$pmix_dir/share/pmix"; do
  [ -d "$need" ] || { echo "package-openmpi: $need not found (apt install openmpi-bin libpmix2)" >&2; exit 2; }
done
if [ ! -x "$orterun" ] || [ ! -x "$orted" ]; then
  echo "package-openmpi: orterun/orted not on PATH (apt install openmpi-bin)" >&2; exit 2
fi

out="$dest/openmpi"
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib/openmpi3" "$out/lib/pmix" "$out/lib/hwloc" "$out/share/openmpi" "$out/share/pmix" "$out/etc"
cp -L "$orterun" "$out/bin/mpirun"
cp -L "$orted" "$out/bin/orted"

# MCA plugins left out, and why (everything else is kept: the rest is small and has no extra deps):
#   OpenSHMEM (atomic, memheap, scoll, spml, sshmem) — attnbench is MPI only;
#   interconnects a one-node GPU check does not use, whose libraries (UCX, libfabric, PSM, verbs,
#   libnl) would add megabytes: *_ucx, *_ofi, *_psm, *_psm2, btl_openib, pml_cm (needs an MTL),
#   reachable_netlink;
#   MPI-IO (io, fs, fbtl, fcoll, sharedfp) — attnbench writes no MPI files;
#   monitoring components, topo_treematch, vprotocol (message logging), the debugger message queue;
#   launchers/resource managers absent on the device: slurm, flux, jsm, gridengine.
drop_re='^(libompi_dbg_msgq|mca_(atomic|memheap|scoll|spml|sshmem|io|fs|fbtl|fcoll|sharedfp|vprotocol)_.*|mca_pml_cm|mca_btl_openib|mca_topo_treematch|mca_reachable_netlink|mca_.*_(ucx|ofi|psm|psm2|monitoring|slurm|flux|jsm|gridengine))\.so$'
for f in "$ompi_pkglib"/*.so; do
  [[ "$(basename "$f")" =~ $drop_re ]] && continue
  cp -L "$f" "$out/lib/openmpi3/"
done
cp -L "$pmix_dir"/lib/pmix/*.so "$out/lib/pmix/"
# lib/hwloc stays empty: HWLOC_PLUGINS_PATH points there so that hwloc loads no plugins (PCI, GL,
# OpenCL, XML); Open MPI needs none of them on one node, and they would pull X11 and OpenCL.

# Help texts only: the compiler-wrapper data, valgrind suppressions and openib tables are not needed.
cp "$ompi_pkgdata"/help-*.txt "$out/share/openmpi/"
cp "$pmix_dir"/share/pmix/help-*.txt "$out/share/pmix/"
# mpi-env.sh points OPAL_SYSCONFDIR here, so no /etc/openmpi of the device is read.
echo "# Empty on purpose: the carried runtime's MCA settings are in ../../mpi-env.sh (OMPI_MCA_*)." \
  > "$out/etc/openmpi-mca-params.conf"
cp "$root/scripts/device-mpi-env.sh" "$dest/mpi-env.sh"

find "$out/bin" "$out/lib" -type f
