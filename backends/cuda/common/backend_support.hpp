// The capability check every CUDA backend starts with: a usable device first, then its BackendInfo lists.
#pragma once

#include <string>

#include "attnbench/backend.hpp"
#include "backends/cuda/common/device.hpp"

namespace attnbench::cuda {

// Support::no("no CUDA device") without a usable device (so CPU sweeps that
// list cuda.* get `unsupported` rows), otherwise check_info(info, p).
inline Support check_cuda_support(const BackendInfo& info, const Problem& p) {
  if (!cuda_device_available()) return Support::no(kNoDeviceReason);
  return check_info(info, p);
}

}  // namespace attnbench::cuda
