// fp32 merges of partial CP results: outputs by their log-sum-exp (DESIGN.md "Context parallelism"),
// gradients by sum.
#pragma once

#include <cstdint>

namespace attnbench::cp {

// Folds a partial (o_part [B, n, H, D], lse_part [B, H, n]) into the running
// (o, lse) of the same rows: lse = max + log1p(exp(min - max)),
// o = e^(lse1 - lse) o1 + e^(lse2 - lse) o2. A partial with lse = -inf adds
// nothing; a running row at -inf takes the partial as is.
void merge_partial(float* o, float* lse, const float* o_part, const float* lse_part, std::int64_t batch,
                   std::int64_t n, std::int64_t heads, std::int64_t head_dim);

// dst[i] += src[i] for n floats (gradient partials), threaded when large.
void add_into(float* dst, const float* src, std::int64_t n);

}  // namespace attnbench::cp
