// results.md's padding-waste table: rows of a `batching` scenario, packed beside padded, with what padding
// costs a dense kernel (padded_area, padding_waste) and what it cost the kernel that ran (time ratio).
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// The section ("" when no row has a `layout`): per pass, one line per row with a layout, the
// padded row carrying its time over the packed row of the same batch, backend, shape and dtype.
std::string padding_waste_markdown(const std::vector<ResultRow>& rows);

}  // namespace attnbench
