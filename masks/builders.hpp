// Internal: the table of mask builders by family, and the parameter and geometry helpers they share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "masks/library.hpp"

namespace attnbench::masks {

using ResolvedParams = std::vector<std::pair<std::string, std::string>>;

// One mask of the library: its description, its builder, and optionally a fast exact area
// for masks whose slice list is too large to build just for counting (block-sparse at 1M).
struct MaskEntry {
  MaskInfo info;
  MaskPtr (*build)(const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k) = nullptr;
  std::int64_t (*area)(const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k) = nullptr;
};

std::vector<MaskEntry> regular_masks();
std::vector<MaskEntry> heterogeneous_masks();
std::vector<MaskEntry> block_sparse_masks();
std::vector<MaskEntry> user_slice_masks();
std::vector<MaskEntry> selector_masks();  // dynamic: masks/selectors.cpp
std::vector<MaskEntry> per_head_masks();  // masks/per_head.cpp
const std::vector<MaskEntry>& all_mask_entries();

std::vector<MaskInfo> all_mask_infos();

// Parameter access with defaults; errors name the mask, the parameter and the range.
std::int64_t int_param(const MaskSpec&, const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
double real_param(const MaskSpec&, const std::string& key, double fallback, double min_exclusive,
                  double max_inclusive);
// The raw value parsed as YAML (lists, maps, scalars); nullopt when absent.
std::optional<YAML::Node> yaml_param(const MaskSpec&, const std::string& key);
// One of a fixed set of words (`accepted`); anything else names the field and the accepted values.
std::string choice_param(const MaskSpec&, const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& accepted);
std::uint64_t seed_param(const MaskSpec&);
std::string json_number(double);

// Larger than any sequence, small enough that index arithmetic cannot overflow.
inline constexpr std::int64_t kUnbounded = std::int64_t{1} << 52;

// Appends non-overlapping slices covering exactly {(q, k): r0 <= q < r1, c0 <= k < c1,
// q + lower <= k <= q + upper}; lower = -kUnbounded / upper = kUnbounded drop that bound.
void add_band(std::vector<Slice>& out, std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
              std::int64_t lower, std::int64_t upper);

}  // namespace attnbench::masks
