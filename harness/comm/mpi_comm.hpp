// The MPI communicator (Open MPI): world setup and the Communicator over an MPI_Comm.
#pragma once

#include <memory>
#include <string>

#include "attnbench/comm.hpp"

namespace attnbench::comm {

// MPI_Init_thread (funneled) unless MPI is already initialized.
void mpi_init(int* argc, char*** argv);
void mpi_finalize();
bool mpi_initialized();
// MPI_Get_library_version, first line.
std::string mpi_library_version();
// MPI_COMM_WORLD (duplicated, so the harness's own messages never meet a library's).
std::unique_ptr<Communicator> make_mpi_world();

}  // namespace attnbench::comm
