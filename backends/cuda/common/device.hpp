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

// The device index this process uses, chosen once by cuda_device_available()
// with choose_device() and made current with cudaSetDevice (0 before that).
int selected_device();

// The device a process uses: ATTNBENCH_CUDA_DEVICE when set (`requested`: an index
// below `count`), else the node-local MPI rank (`local_rank`, from the launcher's
// environment) modulo `count`, so CP ranks spread over a node's GPUs and share
// them when there are more ranks than GPUs; else 0. A bad `requested` returns -1
// and says why (naming the variable and the accepted range).
int choose_device(const char* requested, const char* local_rank, int count, std::string* why);

// Properties of the selected device for the context block, as (key, value text) pairs:
// gpu_model, gpu_compute_capability, gpu_sm_count, gpu_memory_bytes,
// gpu_l2_bytes, cuda_driver_version, cuda_runtime_version. Empty without a device.
std::vector<std::pair<std::string, std::string>> cuda_device_properties();

// "13.0" from CUDA's integer version 13000 (major*1000 + minor*10).
std::string format_cuda_version(int version);

}  // namespace attnbench::cuda
