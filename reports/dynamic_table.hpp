// The speed-quality table of dynamic-mask rows (selectors): speed-up over the dense base row beside
// attn_recall.
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// results.md's "Dynamic masks" section: one line per row with a `base_mask` column (a selector), with its
// selected density, time, select_ms, the time of the dense base-mask row of the same case (same backend,
// strategy, shape, dtype, pass, seed; its mask label equal to base_mask; status ok) when the sweep has one,
// the speed-up over it, attn_recall and approx_rel_l2. "" when the sweep has no dynamic rows.
std::string dynamic_markdown(const std::vector<ResultRow>&);

}  // namespace attnbench
