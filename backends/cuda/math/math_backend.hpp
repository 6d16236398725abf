// cuda.math: the materialising baseline on cuBLAS (QKᵀ, masked softmax, PV) with a GEMM backward.
#pragma once

#include "attnbench/backend.hpp"
#include "backends/cuda/math/math_chunk_kernel.hpp"

namespace attnbench::cuda {

// Scores are materialised per head, for as many heads per pass as the device
// budget allows (option `heads_per_pass` forces a number): a single head's
// S×S intermediates past the budget make the case `oom`.
class CudaMathBackend final : public Backend, public ChunkCapable {
 public:
  BackendInfo info() const override;
  Support supports(const Problem& p) const override;
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override;
  // CP strategies on GPU ranks (staged through pinned host memory).
  const ChunkKernel& chunk_kernel() const override { return chunk_; }

 private:
  MathChunkKernel chunk_;
};

}  // namespace attnbench::cuda
