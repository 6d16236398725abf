// A mask as per-row allowed key ranges in CSR form, the input of cuda.math's masked softmax kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::cuda::math {

// Row q's allowed keys are [bounds[2i], bounds[2i+1]) for i in [row_ptr[q], row_ptr[q+1]),
// sorted and disjoint (Mask::row_ranges). 32-bit bounds: sequences below 2^31.
struct MaskRows {
  std::vector<std::int64_t> row_ptr;  // seqlen_q + 1
  std::vector<std::int32_t> bounds;   // 2 per range
  std::int64_t ranges() const { return static_cast<std::int64_t>(bounds.size() / 2); }
};

MaskRows build_mask_rows(const Mask&);
// The rows of the rectangle [q0, q0 + nq) × [k0, k0 + nk) (a CP chunk pair), with
// key bounds relative to k0, so the kernels see the chunk as a whole problem.
MaskRows build_mask_rows(const Mask&, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk);

}  // namespace attnbench::cuda::math
