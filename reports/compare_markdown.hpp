// The Markdown report of `attnbench compare`, fit for a pull-request comment.
#pragma once

#include <string>

#include "reports/compare.hpp"

namespace attnbench {

// Verdict and counts first, then the failing rows, then the other rows in a
// collapsed <details> block ending with a geometric-mean row of time ratios.
// At most `max_other_rows` non-failing rows are listed (the least interesting,
// `same`, are cut first), so a big sweep still fits a pull-request comment
// (GitHub caps comments at 65536 characters); failing rows are always listed.
std::string render_compare_markdown(const CompareReport&, std::size_t max_other_rows = 200);

}  // namespace attnbench
