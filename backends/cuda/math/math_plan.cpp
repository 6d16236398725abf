// cuda.math planning: item numbering, sub-batches, pass sizes, launch sizes.
#include "backends/cuda/math/math_plan.hpp"

#include <algorithm>

namespace attnbench::cuda::math {

std::vector<std::pair<std::int64_t, std::int64_t>> gemm_sub_batches(std::int64_t c0, std::int64_t c1,
                                                                    const Shape& s) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (std::int64_t begin = c0; begin < c1;) {
    const std::int64_t end = std::min(c1, (begin / s.heads_kv + 1) * s.heads_kv);
    out.emplace_back(begin, end);
    begin = end;
  }
  return out;
}

std::size_t score_bytes_per_item(const Shape& s, std::size_t dtype_bytes, bool backward) {
  const auto elems = static_cast<std::size_t>(s.seqlen_q) * static_cast<std::size_t>(s.seqlen_k);
  const std::size_t fwd = sizeof(float) + dtype_bytes;                  // scores, probabilities
  return elems * (backward ? fwd + sizeof(float) + dtype_bytes : fwd);  // + dP, dS
}

std::int64_t items_per_pass(std::int64_t items, std::size_t bytes_per_item, std::size_t available,
                            std::int64_t requested) {
  if (items <= 0) return 0;
  if (bytes_per_item == 0) return std::min(items, kMaxGridY);
  const auto fit = static_cast<std::int64_t>(
      std::min<std::size_t>(available / bytes_per_item, static_cast<std::size_t>(items)));
  std::int64_t n = requested > 0 ? std::min(requested, items) : items;
  n = std::min({n, fit, kMaxGridY});
  return std::max<std::int64_t>(n, 0);
}

int row_kernel_threads(std::int64_t seqlen_k) {
  int t = 32;
  while (t < 512 && static_cast<std::int64_t>(t) * 8 < seqlen_k) t *= 2;
  return t;
}

}  // namespace attnbench::cuda::math
