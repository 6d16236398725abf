// results.md's decode table: rows with a few queries against a longer KV cache, in GB/s (memory-bound).
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// Queries per step at or below which a forward row against a longer cache counts as decode.
inline constexpr long long kDecodeMaxQueries = 16;

// Whether a row is a decode step: fwd, Sq <= kDecodeMaxQueries, Sk > Sq.
bool is_decode_row(const ResultRow&);

// "## Decode (GB/s)": one line per decode row (backend, mask, shape, Sq×Sk, bytes, median time,
// GB/s, status); "" when there is none.
std::string decode_markdown(const std::vector<ResultRow>&);

}  // namespace attnbench
