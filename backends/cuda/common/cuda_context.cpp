// Adds the CUDA device facts (GPU model, SMs, memory, driver and runtime versions) to the JSON context block.
#include <set>
#include <string>

#include "backends/cuda/common/device.hpp"
#include "harness/context.hpp"

namespace attnbench::cuda {
namespace {

const bool registered = [] {
  add_context_provider([](Context& c) {
    static const std::set<std::string> numeric = {"gpu_sm_count", "gpu_memory_bytes", "gpu_l2_bytes"};
    bool have_gpu = false;
    for (const auto& [key, value] : cuda_device_properties()) {
      c.emplace_back(key, numeric.count(key) != 0 ? value : json_string(value));
      have_gpu = have_gpu || key == "gpu_model";
    }
    if (!have_gpu) {
      std::string why;
      cuda_device_available(&why);
      c.emplace_back("gpu_model", json_string("none (" + why + ")"));
    }
  });
  return true;
}();

}  // namespace
}  // namespace attnbench::cuda
