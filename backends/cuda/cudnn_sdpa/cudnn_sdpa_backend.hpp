// cudnn.sdpa: cuDNN's fused flash attention (forward with LSE, backward) through the cuDNN frontend graph
// API.
#pragma once

#include "attnbench/backend.hpp"

namespace attnbench::cuda::cudnn_sdpa {

// Graphs are built and planned once per distinct PlanKey (cached for the
// process) and never inside the timed region. Masks cuDNN cannot express are
// `unsupported` with the reason (cudnn_mask.hpp).
class CudnnSdpaBackend final : public Backend {
 public:
  BackendInfo info() const override;
  Support supports(const Problem& p) const override;
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override;
};

}  // namespace attnbench::cuda::cudnn_sdpa
