// Builds the CSR row ranges of a mask from its slice decomposition.
#include "backends/cuda/math/mask_rows.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace attnbench::cuda::math {

MaskRows build_mask_rows(const Mask& m) { return build_mask_rows(m, 0, m.seqlen_q(), 0, m.seqlen_k()); }

MaskRows build_mask_rows(const Mask& m, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) {
  if (nk > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument("cuda.math: seqlen_k must be below 2^31");
  }
  if (q0 < 0 || nq < 0 || k0 < 0 || nk < 0 || q0 + nq > m.seqlen_q() || k0 + nk > m.seqlen_k()) {
    throw std::invalid_argument("cuda.math: mask rectangle outside the mask");
  }
  MaskRows out;
  out.row_ptr.reserve(static_cast<std::size_t>(nq) + 1);
  out.row_ptr.push_back(0);
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::int64_t q = q0; q < q0 + nq; ++q) {
    m.row_ranges(q, ranges);
    for (const auto& [lo, hi] : ranges) {
      const std::int64_t a = std::max(lo, k0), b = std::min(hi, k0 + nk);
      if (a >= b) continue;
      out.bounds.push_back(static_cast<std::int32_t>(a - k0));
      out.bounds.push_back(static_cast<std::int32_t>(b - k0));
    }
    out.row_ptr.push_back(out.ranges());
  }
  return out;
}

}  // namespace attnbench::cuda::math
