// cuda.flash: attnbench's own block-sparse flash attention (forward and backward) driven by the mask's block map.
#pragma once

#include <memory>

#include "attnbench/backend.hpp"

namespace attnbench::cuda_flash {

class CudaFlashBackend final : public Backend {
 public:
  BackendInfo info() const override;
  Support supports(const Problem&) const override;
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override;
};

}  // namespace attnbench::cuda_flash
