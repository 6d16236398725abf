// Dynamic masks: the selected per-(batch, query head) masks of a selector case, computed from its Q and K.
#pragma once

#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"

namespace attnbench {

// True when the case's mask names a selector (topk_blocks, vertical_slash, kmeans, token_keep,
// recycled); its Problem::mask is then the base mask under the selector's name and parameters.
bool is_dynamic(const Problem&);

// The selected masks, batch·heads_q of them (index b·heads_q + h), each a subset of the base that
// keeps the diagonal block; deterministic for the same inputs and parameters.
std::vector<MaskPtr> select_masks(const Problem&, const Inputs&);

// "causal" or "causal_sliding_window{window=256}": the label of the selector's base mask, as the
// dense base row's mask and mask_params read (the reports pair the two by it).
std::string base_mask_label(const Problem&);

}  // namespace attnbench
