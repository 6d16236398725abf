// The Markdown report of `attnbench compare`, fit for a pull-request comment.
#pragma once

#include <string>

#include "reports/compare.hpp"

namespace attnbench {

// Verdict and counts first, then the failing rows, then every other row in a
// collapsed <details> block ending with a geometric-mean row of time ratios.
std::string render_compare_markdown(const CompareReport&);

}  // namespace attnbench
