// Runtime detection of a usable CUDA device and its properties for the JSON context block.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace attnbench::cuda {

// The reason every CUDA backend gives when no device can run its kernels.
inline constexpr const char* kNoDeviceReason = "no CUDA device";

// True when device 0 exists and can run the kernels this binary was built for.
// Checked once per process and cached; on false, *why (if given) starts with
// "no CUDA device" and adds the detail (driver error, architecture mismatch).
bool cuda_device_available(std::string* why = nullptr);

// Properties of device 0 for the context block, as (key, value text) pairs:
// gpu_model, gpu_compute_capability, gpu_sm_count, gpu_memory_bytes,
// gpu_l2_bytes, cuda_driver_version, cuda_runtime_version. Empty without a device.
std::vector<std::pair<std::string, std::string>> cuda_device_properties();

// "13.0" from CUDA's integer version 13000 (major*1000 + minor*10).
std::string format_cuda_version(int version);

}  // namespace attnbench::cuda
