// Selected masks from per-row key ranges: exact slices (full runs, causal / inverse-causal / band edges).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::select {

using Range = std::pair<std::int64_t, std::int64_t>;  // [begin, end)
using Ranges = std::vector<Range>;

// Sorted, disjoint ranges of a and b intersected (appended to out after clearing it).
void intersect(const Ranges& a, const Ranges& b, Ranges& out);
// Sorts and merges touching or overlapping ranges in place.
void normalise(Ranges& r);

// Turns rows of sorted, disjoint key ranges (row q's ranges given by rows(q, out)) into
// non-overlapping slices covering exactly those pairs: consecutive rows whose ranges keep their
// ends (full), grow by one (causal), shrink by one (inv_causal) or shift by one (bicausal) share one
// slice, so a block-granular selection becomes one slice per run of kept blocks plus its diagonal.
std::vector<Slice> rows_to_slices(std::int64_t seqlen_q,
                                  const std::function<void(std::int64_t, Ranges&)>& rows);

// The selected mask of one (batch, head): `predicate` is the selector's definition (tests prove
// the slices agree with it), `rows` the same set as key ranges per row.
MaskPtr make_selected(const std::string& name, std::vector<std::pair<std::string, std::string>> params,
                      std::int64_t seqlen_q, std::int64_t seqlen_k,
                      const std::function<void(std::int64_t, Ranges&)>& rows, Mask::Predicate predicate);

}  // namespace attnbench::select
