// The LSE merge, row by row, in fp32; the gradient sum.
#include "backends/cp/merge.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnbench::cp {

void merge_partial(float* o, float* lse, const float* o_part, const float* lse_part, std::int64_t B,
                   std::int64_t n, std::int64_t H, std::int64_t D) {
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t li = (b * H + h) * n + i;
        const float l2 = lse_part[li];
        if (l2 == neg_inf) continue;
        float* oi = o + ((b * n + i) * H + h) * D;
        const float* pi = o_part + ((b * n + i) * H + h) * D;
        const float l1 = lse[li];
        if (l1 == neg_inf) {
          for (std::int64_t d = 0; d < D; ++d) oi[d] = pi[d];
          lse[li] = l2;
          continue;
        }
        const float mx = std::max(l1, l2), mn = std::min(l1, l2);
        const float l = mx + std::log1p(std::exp(mn - mx));
        const float w1 = std::exp(l1 - l), w2 = std::exp(l2 - l);
        for (std::int64_t d = 0; d < D; ++d) oi[d] = w1 * oi[d] + w2 * pi[d];
        lse[li] = l;
      }
}

void add_into(float* dst, const float* src, std::int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace attnbench::cp
