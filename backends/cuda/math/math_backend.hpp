// cuda.math: the materialising baseline on cuBLAS (QKᵀ, masked softmax, PV) with a GEMM backward.
#pragma once

#include "attnbench/backend.hpp"

namespace attnbench::cuda {

// Scores are materialised per head, for as many heads per pass as the device
// budget allows (option `heads_per_pass` forces a number): a single head's
// S×S intermediates past the budget make the case `oom`.
class CudaMathBackend final : public Backend {
 public:
  BackendInfo info() const override;
  Support supports(const Problem& p) const override;
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override;
};

}  // namespace attnbench::cuda
