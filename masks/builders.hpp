// Internal: one builder per mask family, and the parameter helpers they share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "masks/library.hpp"

namespace attnbench::masks {

std::vector<MaskInfo> all_mask_infos();
MaskPtr build(const MaskInfo&, const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k);

// Parameter access with defaults; errors name the mask, the parameter and the range.
std::int64_t int_param(const MaskSpec&, const std::string& key, std::int64_t fallback,
                       std::int64_t min, std::int64_t max);
double real_param(const MaskSpec&, const std::string& key, double fallback, double min_exclusive,
                  double max_inclusive);

}  // namespace attnbench::masks
