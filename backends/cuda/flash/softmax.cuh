// Online-softmax and LSE arithmetic of cuda.flash, shared by the kernels and the CPU tests.
#pragma once

#include <cmath>

#include "backends/cuda/flash/host_device.hpp"

namespace attnbench::cuda::flash {

// Scores are kept in base 2: x = s * scale * log2(e), so one exp2 per probability.
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

ATTNBENCH_HD float fast_exp2(float x) {
#if defined(__CUDA_ARCH__)
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return std::exp2(x);
#endif
}

ATTNBENCH_HD float neg_inf() { return -INFINITY; }

// Running state of one query row: the max m of the base-2 scaled scores seen so
// far (-inf until an allowed key is seen) and the sum l of exp2(x - m).
struct RowState {
  float m = -INFINITY;
  float l = 0.0f;
};

// The exponent base for a row whose max is m: 0 while the row has no allowed
// key, so exp2(-inf - base) stays 0 instead of NaN.
ATTNBENCH_HD float exp_base(float m) { return m == -INFINITY ? 0.0f : m; }

// Starts a new key tile whose raw (unscaled) row max is tile_max: updates m,
// rescales l, and returns the factor alpha the output accumulator must be
// multiplied by. Probabilities of the tile are then prob(s, scale_log2, base(state)).
ATTNBENCH_HD float begin_tile(RowState& st, float tile_max, float scale_log2) {
  const float m_new = fmaxf(st.m, tile_max * scale_log2);
  const float alpha = fast_exp2(st.m - exp_base(m_new));
  st.m = m_new;
  st.l *= alpha;
  return alpha;
}

ATTNBENCH_HD float prob(float s, float scale_log2, float base) {
  return fast_exp2(fmaf(s, scale_log2, -base));
}

// 1/l for the final output; 0 for rows with no allowed key (O = 0).
ATTNBENCH_HD float output_scale(float l) { return l > 0.0f ? 1.0f / l : 0.0f; }

// Natural-log LSE of a finished row; -inf when no key was allowed.
ATTNBENCH_HD float finalize_lse(const RowState& st) {
  return st.l > 0.0f ? (st.m + log2f(st.l)) * kLn2 : -INFINITY;
}

// The backward pass recomputes P = exp2(s * scale_log2 - lse_log2). A row with
// LSE = -inf has no allowed key; +inf makes every probability of it exactly 0.
ATTNBENCH_HD float backward_lse_log2(float lse) { return lse == -INFINITY ? INFINITY : lse * kLog2e; }

// LSE of the union of two disjoint key sets (DESIGN.md merge rule, natural log).
ATTNBENCH_HD float merge_lse(float a, float b) {
  const float hi = fmaxf(a, b), lo = fminf(a, b);
  if (hi == -INFINITY) return -INFINITY;
  return hi + log1pf(expf(lo - hi));
}

// Weight of a partial output in the merged one: exp(lse_part - lse_total), 0 for an empty part.
ATTNBENCH_HD float merge_weight(float lse_part, float lse_total) {
  return lse_part == -INFINITY ? 0.0f : expf(lse_part - lse_total);
}

}  // namespace attnbench::cuda::flash
