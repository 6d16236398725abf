// cuda.flash: attnbench's own block-sparse flash attention (forward and backward) driven by the mask's block
// map.
#pragma once

#include <memory>

#include "attnbench/backend.hpp"
#include "backends/cuda/flash/flash_chunk_kernel.hpp"

namespace attnbench::cuda::flash {

class CudaFlashBackend final : public Backend, public ChunkCapable {
 public:
  BackendInfo info() const override;
  Support supports(const Problem&) const override;
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override;
  // CP strategies on GPU ranks (staged through pinned host memory).
  const ChunkKernel& chunk_kernel() const override { return chunk_; }

 private:
  CudaFlashChunkKernel chunk_;
};

}  // namespace attnbench::cuda::flash
