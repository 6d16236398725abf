// How many key positions at least one query may see: the keys a kernel must read at the least.
#pragma once

#include <cstdint>

#include "attnbench/mask.hpp"

namespace attnbench::masks {

// The number of mask columns k with allowed(q, k) for some q, exact, from the
// slices: every slice with a non-zero area reaches each of its key columns (full,
// causal, inv_causal and bicausal alike, see mask.hpp), so this is the size of the
// union of those slices' key ranges.
std::int64_t visible_key_count(const Mask&);

}  // namespace attnbench::masks
