// Which GPU a process uses: an explicit ATTNBENCH_CUDA_DEVICE, else its node-local rank modulo the GPU count.
#include <string>

#include "backends/cuda/common/device.hpp"

namespace attnbench::cuda {

namespace {
// A whole non-negative decimal number, or -1.
long parse_index(const char* text) {
  if (text == nullptr || *text == '\0') return -1;
  long v = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || v > 1'000'000) return -1;
    v = v * 10 + (*c - '0');
  }
  return v;
}
}  // namespace

int choose_device(const char* requested, const char* local_rank, int count, std::string* why) {
  if (count <= 0) return -1;
  if (requested != nullptr && *requested != '\0') {
    const long v = parse_index(requested);
    if (v < 0 || v >= count) {
      if (why != nullptr)
        *why = "ATTNBENCH_CUDA_DEVICE='" + std::string(requested) + "' (accepted: 0.." +
               std::to_string(count - 1) + ")";
      return -1;
    }
    return static_cast<int>(v);
  }
  const long rank = parse_index(local_rank);
  return rank < 0 ? 0 : static_cast<int>(rank % count);
}

}  // namespace attnbench::cuda
