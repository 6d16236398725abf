// cuda.flash's chunk kernel: CP strategies run the flash kernels on one chunk pair at a time, staged through
// pinned host memory.
#pragma once

#include "backends/cuda/common/chunk_staging.hpp"

namespace attnbench::cuda::flash {

// Each call uploads the chunk (fp32 host → the case's 16-bit dtype), builds the
// schedule of the chunk's rectangle of the global mask, launches the kernel and
// copies the results back as fp32. The backward takes the *final* O and LSE of
// the query rows, which is what the flash backward needs anyway (it recomputes
// P from LSE and uses rowsum(dO∘O)), so partial results need no rescaling.
class CudaFlashChunkKernel final : public cuda::StagedChunkKernel {
 public:
  void forward(const ChunkTask&, const float* q, const float* k, const float* v, float* o,
               float* lse) const override;
  void backward(const ChunkTask&, const float* q, const float* k, const float* v, const float* o,
                const float* lse, const float* dout, float* dq, float* dk, float* dv) const override;
};

}  // namespace attnbench::cuda::flash
