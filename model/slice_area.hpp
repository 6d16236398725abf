// Exact allowed-pair counts of rectangles from a mask's slices in O(slices touched): the scale model
// needs millions of chunk-pair areas (1024 ranks) where Mask::area_in walks rows.
#pragma once

#include <cstdint>
#include <vector>

#include "attnbench/mask.hpp"
#include "backends/cp/layout.hpp"

namespace attnbench::model {

// Allowed pairs of one slice inside [q0, q1) x [k0, k1), in O(1).
std::int64_t slice_area_in(const Slice&, std::int64_t q0, std::int64_t q1, std::int64_t k0, std::int64_t k1);

class SliceAreas {
 public:
  explicit SliceAreas(const Mask&);
  // Equals Mask::area_in(q0, nq, k0, nk) (tests/model prove it on every mask family).
  std::int64_t area_in(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) const;
  // Sum over every pair of ranges (what cp::ChunkPairs::area() counts).
  std::int64_t area(const cp::Ranges& rows, const cp::Ranges& cols) const;

 private:
  std::vector<Slice> slices_;
  std::int64_t seqlen_q_ = 0, bucket_ = 1;
  // Rows [b * bucket_, (b+1) * bucket_) meet the slices ids_[ptr_[b] .. ptr_[b+1]).
  std::vector<std::int64_t> ptr_;
  std::vector<std::int32_t> ids_;
};

}  // namespace attnbench::model
