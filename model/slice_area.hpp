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

class SliceAreas;

// Areas between the parts of one layout (ranks or ring slots) with each range's key extent
// precomputed, so that the P^2 pairs of a 1024-rank model skip empty ones in O(1).
class PartAreas {
 public:
  PartAreas(const SliceAreas&, const std::vector<cp::Ranges>& parts);
  std::int64_t operator()(int rows_part, int cols_part) const;

 private:
  struct Row {
    cp::Range rows;
    std::int64_t k_first, k_last;
  };
  const SliceAreas& areas_;
  const std::vector<cp::Ranges>& parts_;
  std::vector<std::vector<Row>> rows_;
};

class SliceAreas {
 public:
  explicit SliceAreas(const Mask&);
  // Equals Mask::area_in(q0, nq, k0, nk) (tests/model prove it on every mask family).
  std::int64_t area_in(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) const;
  // Sum over every pair of ranges (what cp::ChunkPairs::area() counts).
  std::int64_t area(const cp::Ranges& rows, const cp::Ranges& cols) const;
  // The keys any slice meeting rows [q0, q0 + nq) can allow: [first, last) (empty: first >= last).
  std::pair<std::int64_t, std::int64_t> key_extent(std::int64_t q0, std::int64_t nq) const;

 private:
  std::vector<Slice> slices_;
  std::int64_t seqlen_q_ = 0, bucket_ = 1;
  // Rows [b * bucket_, (b+1) * bucket_) meet the slices ids_[ptr_[b] .. ptr_[b+1]).
  std::vector<std::int64_t> ptr_;
  std::vector<std::int32_t> ids_;
};

}  // namespace attnbench::model
