// Device detection (cached), kernel-image check for the built architectures, and device properties.
#include "backends/cuda/common/device.hpp"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <mutex>

namespace attnbench::cuda {

namespace {

// A kernel whose attributes tell whether this binary holds code the device can run.
__global__ void image_probe_kernel() {}

struct Detection {
  bool ok = false;
  std::string why;
};

int g_selected_device = 0;

// The node-local rank the launcher exported (Open MPI, MPICH/Intel MPI, Slurm), or null.
const char* local_rank_from_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  return nullptr;
}

Detection detect() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error of a failed query
    return {false, std::string(kNoDeviceReason) + " (cudaGetDeviceCount: " + cudaGetErrorString(err) + ")"};
  }
  if (count == 0) return {false, kNoDeviceReason};
  std::string bad;
  const int device =
      choose_device(std::getenv("ATTNBENCH_CUDA_DEVICE"), local_rank_from_environment(), count, &bad);
  if (device < 0) return {false, std::string(kNoDeviceReason) + " (" + bad + ")"};
  err = cudaSetDevice(device);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return {false, std::string(kNoDeviceReason) + " (cudaSetDevice(" + std::to_string(device) +
                       "): " + cudaGetErrorString(err) + ")"};
  }
  g_selected_device = device;
  cudaFuncAttributes attrs{};
  err = cudaFuncGetAttributes(&attrs, image_probe_kernel);
  if (err != cudaSuccess) {
    cudaGetLastError();
    cudaDeviceProp prop{};
    std::string cc = "?";
    if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
      cc = std::to_string(prop.major) + std::to_string(prop.minor);
    }
    return {false, std::string(kNoDeviceReason) + " usable: the device is sm_" + cc +
                       " but this binary has no code for it (" + cudaGetErrorString(err) +
                       "; rebuild with -DATTNBENCH_CUDA_ARCHITECTURES=" + cc + ")"};
  }
  return {true, {}};
}

}  // namespace

int selected_device() { return g_selected_device; }

bool cuda_device_available(std::string* why) {
  static std::once_flag once;
  static Detection result;
  std::call_once(once, [] { result = detect(); });
  if (!result.ok && why != nullptr) *why = result.why;
  return result.ok;
}

std::string format_cuda_version(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

std::vector<std::pair<std::string, std::string>> cuda_device_properties() {
  std::vector<std::pair<std::string, std::string>> out;
  int driver = 0, runtime = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) {
    out.emplace_back("cuda_driver_version", format_cuda_version(driver));
  }
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) {
    out.emplace_back("cuda_runtime_version", format_cuda_version(runtime));
  }
  if (!cuda_device_available()) return out;
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, selected_device()) != cudaSuccess) return out;
  out.emplace_back("gpu_index", std::to_string(selected_device()));
  out.emplace_back("gpu_model", prop.name);
  out.emplace_back("gpu_compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
  out.emplace_back("gpu_sm_count", std::to_string(prop.multiProcessorCount));
  out.emplace_back("gpu_memory_bytes", std::to_string(prop.totalGlobalMem));
  out.emplace_back("gpu_l2_bytes", std::to_string(prop.l2CacheSize));
  return out;
}

}  // namespace attnbench::cuda
