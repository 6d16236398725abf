// Seeded input generation: the same seed and shape give the same tensors for every backend.
#pragma once

#include <cstdint>

#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"

namespace attnbench {

// Rounds x to the nearest value representable in dtype (bf16, fp16) and back to fp32.
float round_to_dtype(float x, DType);

// q, k, v (and dout when the pass has a backward) from a normal distribution,
// rounded to the problem's dtype. Each tensor has its own stream derived from
// (seed, shape, dtype), so adding dout never changes q, k or v.
Inputs generate_inputs(const Problem&);

}  // namespace attnbench
