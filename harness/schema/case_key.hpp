// One case key for --resume, compare and tensor dumps, derived from the key columns of the field table.
#pragma once

#include <string>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// JSON text in canonical form (keys sorted, compact); text that is not JSON unchanged.
std::string canonical_json(const std::string& text);

// The full case key: every key column of the field table in order (mask_params and
// the strategy options canonical, no options = empty options), separated by a byte
// no value contains. Rows of two runs are the same case when their keys are equal.
std::string case_key(const ResultRow&);

}  // namespace attnbench
