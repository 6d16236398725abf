// All-gather K/V execution: local queries against every key; backward reduce-scatters dK/dV.
#pragma once

#include "backends/cp/cp_execution.hpp"

namespace attnbench::cp {

std::unique_ptr<CpExecution> make_allgather_execution(const Problem&, const ChunkKernel&, const Inputs&,
                                                      Resources&, const CpOptions&);

}  // namespace attnbench::cp
