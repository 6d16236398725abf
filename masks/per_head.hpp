// Masks per head (DESIGN.md "Masks per head"): a `per_head` entry's groups, their share of the key
// heads, and the mask of every query head.
#pragma once

#include <cstdint>
#include <vector>

#include "masks/library.hpp"

namespace attnbench {

// One group of a per_head entry: the mask its heads use and its fraction of the key heads
// (0: none given; the last group takes the rest whatever it says).
struct PerHeadGroup {
  MaskSpec mask;
  double fraction = 0;
};

// A per_head entry resolved for one shape.
struct PerHeadMasks {
  MaskPtr label;  // named per_head, params record the groups and their heads
  std::vector<PerHeadGroup> groups;
  std::vector<std::int64_t> heads_k;  // key heads per group
  std::vector<MaskPtr> group_masks;   // one per group
  std::vector<MaskPtr> query_heads;   // heads_q entries: the mask of each query head
};

// Parses and checks the `groups` of a per_head spec (InputError: "mask 'per_head': groups[i]: ...").
std::vector<PerHeadGroup> per_head_groups(const MaskSpec&);
// Key heads of each group: round(fraction · Hk) in order (never past what is left), the last the rest.
std::vector<std::int64_t> per_head_counts(const std::vector<PerHeadGroup>&, std::int64_t heads_k);
// Every query head's mask: query head h reads key head h / (Hq / Hk), which lies in one group.
PerHeadMasks build_per_head(const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k,
                            std::int64_t heads_q, std::int64_t heads_k);

}  // namespace attnbench
