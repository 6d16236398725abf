// Shared wording of compare results (cells, verdicts), so the Markdown and JUnit reports say the same thing.
#pragma once

#include <string>
#include <vector>

#include "reports/compare.hpp"

namespace attnbench {

// Report order: failing classes first, then the ones a reader should look at.
int change_class_rank(ChangeClass);
// Rows sorted by (fails first, class rank), stable within a class.
std::vector<const RowComparison*> rows_in_report_order(const CompareReport&);

// "1.234 ms" for an ok row with a time, else its status; "—" when absent.
std::string time_cell(const std::optional<ResultRow>&);
std::string change_cell(const RowComparison&);     // "+30.0 %" or ""
std::string noise_bar_cell(const RowComparison&);  // "2.8 %" or ""
// "slower", "broken (ok → mismatch)", "new (mismatch)"...
std::string class_cell(const RowComparison&);
// One sentence on the row: class, change, bar and threshold, status message.
std::string row_summary(const RowComparison&, const CompareOptions&);
// "1.023 (+2.3 %)" or "n/a".
std::string geomean_text(const CompareReport&);
std::string fail_on_text(const CompareOptions&);

}  // namespace attnbench
