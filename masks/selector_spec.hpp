// Dynamic-mask selectors as mask entries: their parameters, validated, and the base mask they select from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/mask.hpp"
#include "masks/library.hpp"

namespace attnbench {

// The parameters of one selector (DESIGN.md "Dynamic and approximate attention"); unused fields keep
// their defaults. `block` is the selection block of topk_blocks and, for every selector, the size of
// the diagonal block that is always kept.
struct SelectorSpec {
  std::string selector;  // topk_blocks, vertical_slash, kmeans, token_keep, recycled
  MaskSpec base{"causal", {}};
  std::int64_t block = 64;
  double keep = 0.1;             // topk_blocks, token_keep: fraction kept
  double threshold = 0.0;        // topk_blocks: > 0 replaces keep (blocks with normalised score >= threshold)
  std::string pool = "avg";      // topk_blocks: K pooling, avg | maxminavg
  std::string score = "pooled";  // topk_blocks: pooled | oracle
  std::int64_t last_q = 64, vertical = 64, slash = 64;  // vertical_slash
  std::int64_t clusters = 16, iters = 10;               // kmeans
  std::uint64_t seed = 0;                               // kmeans initial centroids
  std::int64_t stride = 16, topk = 64;                  // recycled
};

bool is_selector(const std::string& mask_name);
const std::vector<std::string>& selector_names();

// Parses and checks a selector's parameters; bad values throw InputError naming the selector, the
// parameter and the accepted range.
SelectorSpec parse_selector(const MaskSpec&);
// The spec of a selector mask as build_mask made it (its resolved parameters).
SelectorSpec selector_spec(const Mask& selector_mask);

}  // namespace attnbench
