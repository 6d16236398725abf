// The single-process communicator (size 1): what CP strategies get without MPI.
#pragma once

#include <memory>

#include "attnbench/comm.hpp"

namespace attnbench::comm {

std::unique_ptr<Communicator> make_local_communicator();

}  // namespace attnbench::comm
