// The softmax scale a CUDA kernel applies: the case's, or 1/sqrt(head_dim) when it is left at 0.
#pragma once

#include <cmath>
#include <cstdint>

namespace attnbench::cuda {

// Scenarios always resolve the scale; Problems and ChunkTasks built directly
// (tests, plugins' callers) may leave it 0, which means the default.
inline double softmax_scale_or_default(double scale, std::int64_t head_dim) {
  return scale > 0.0 ? scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
}

}  // namespace attnbench::cuda
