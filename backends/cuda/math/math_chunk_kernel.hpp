// cuda.math's chunk kernel: CP strategies run the cuBLAS baseline on one chunk pair at a time, staged through
// pinned host memory.
#pragma once

#include "backends/cuda/common/chunk_staging.hpp"

namespace attnbench::cuda {

// Each call uploads the chunk in the case's dtype, materialises the chunk's
// nq × nk scores for as many heads per pass as the free device memory holds,
// and copies O/LSE or dQ/dK/dV (fp32 accumulators) back.
class MathChunkKernel final : public StagedChunkKernel {
 public:
  void forward(const ChunkTask&, const float* q, const float* k, const float* v, float* o,
               float* lse) const override;
  void backward(const ChunkTask&, const float* q, const float* k, const float* v, const float* o,
                const float* lse, const float* dout, float* dq, float* dk, float* dv) const override;
};

}  // namespace attnbench::cuda
