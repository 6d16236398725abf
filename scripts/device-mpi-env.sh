# Sourced on the GPU machine (carried as .device/mpi-env.sh): makes the packed Open MPI the one mpirun and every rank use.
#   source .device/mpi-env.sh && mpirun -np 4 .device/attnbench run scenarios/gpu-cp.yaml --out results/cp
# Written for Debian's Open MPI 4.1 with external PMIx 4, packed by scripts/package-openmpi.sh. Their
# compiled-in folders are under /usr, which the device lacks; each one is moved here by an
# environment variable that mpirun passes on to the ranks it starts.
# shellcheck shell=bash
_attnbench_dev="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_attnbench_mpi="$_attnbench_dev/openmpi"

export PATH="$_attnbench_mpi/bin:$PATH"
export LD_LIBRARY_PATH="$_attnbench_dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Open MPI (OPAL installdirs): plugins from lib/openmpi3, help texts from share/openmpi, and
# this package's etc/ instead of /etc/openmpi.
export OPAL_PREFIX="$_attnbench_mpi"
export OPAL_EXEC_PREFIX="$_attnbench_mpi"
export OPAL_BINDIR="$_attnbench_mpi/bin"
export OPAL_LIBDIR="$_attnbench_dev/lib"
export OPAL_PKGLIBDIR="$_attnbench_mpi/lib/openmpi3"
export OPAL_DATADIR="$_attnbench_mpi/share"
export OPAL_PKGDATADIR="$_attnbench_mpi/share/openmpi"
export OPAL_SYSCONFDIR="$_attnbench_mpi/etc"
# PMIx (mpirun's PMIx server and each rank's client): the same, and its plugin path, which
# Debian sets to an absolute /usr/lib path in pmix-mca-params.conf.
export PMIX_PREFIX="$_attnbench_mpi"
export PMIX_LIBDIR="$_attnbench_dev/lib"
export PMIX_PKGLIBDIR="$_attnbench_mpi/lib/pmix"
export PMIX_DATADIR="$_attnbench_mpi/share"
export PMIX_PKGDATADIR="$_attnbench_mpi/share/pmix"
export PMIX_SYSCONFDIR="$_attnbench_mpi/etc"
export PMIX_MCA_mca_base_component_path="$_attnbench_mpi/lib/pmix"
# hwloc (topology, used by mpirun and each rank): no plugins. Its compiled-in plugin folder is a
# /usr/lib path; whatever the device has there may be built for another hwloc.
export HWLOC_PLUGINS_PATH="$_attnbench_mpi/lib/hwloc"

# One node, inside a container, often as root:
export OMPI_MCA_plm=isolated                    # start local ranks only: no ssh/rsh on the device
export OMPI_MCA_pml=ob1                         # the only carried point-to-point layer
export OMPI_MCA_btl=self,vader                  # shared memory between the ranks, no network
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # CMA needs ptrace rights containers rarely grant
export OMPI_MCA_rmaps_base_oversubscribe=1      # = --oversubscribe: more ranks than cgroup cores is fine
export OMPI_MCA_hwloc_base_binding_policy=none  # = --bind-to none: each rank runs OpenMP threads
export OMPI_ALLOW_RUN_AS_ROOT=1                 # = --allow-run-as-root
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PMIX_MCA_gds=hash                        # the shared-memory datastore fails in some containers
export PMIX_MCA_psec=native                     # no munge daemon on the device
unset _attnbench_dev _attnbench_mpi
