// Builds the CSR row ranges of a mask from its slice decomposition.
#include "backends/cuda/math/mask_rows.hpp"

#include <limits>
#include <stdexcept>
#include <utility>

namespace attnbench::cuda::math {

MaskRows build_mask_rows(const Mask& m) {
  if (m.seqlen_k() > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument("cuda.math: seqlen_k must be below 2^31");
  }
  MaskRows out;
  out.row_ptr.reserve(static_cast<std::size_t>(m.seqlen_q()) + 1);
  out.row_ptr.push_back(0);
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::int64_t q = 0; q < m.seqlen_q(); ++q) {
    m.row_ranges(q, ranges);
    for (const auto& [lo, hi] : ranges) {
      if (lo >= hi) continue;
      out.bounds.push_back(static_cast<std::int32_t>(lo));
      out.bounds.push_back(static_cast<std::int32_t>(hi));
    }
    out.row_ptr.push_back(out.ranges());
  }
  return out;
}

}  // namespace attnbench::cuda::math
