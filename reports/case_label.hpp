// Readable names for masks and cases, shared by the comparator, the pivot tables and the plots.
#pragma once

#include <string>

namespace attnbench {

// "causal_sliding_window{window=256}" from a mask name and its resolved
// parameters (compact JSON object text). Values sampled from other parameters
// (doc_lengths drawn from a `distribution`) are left out, so one mask keeps one
// label across sequence lengths; long lists are abbreviated.
std::string mask_label(const std::string& mask, const std::string& params_json);

// The mask parameters in canonical form (keys sorted, compact), for matching
// rows across files; text that is not JSON is returned unchanged.
std::string canonical_params(const std::string& params_json);

}  // namespace attnbench
