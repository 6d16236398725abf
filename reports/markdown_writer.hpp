// results.md: per pass and mask, a pivot of TFLOP/s with rows = sequence length, columns = backend.
#pragma once

#include <string>
#include <vector>

#include "reports/json_writer.hpp"
#include "harness/schema/result_row.hpp"

namespace attnbench {

// TFLOP/s with precision that suits its size (GPU hundreds, CPU thousandths).
std::string format_tflops(double tflops);
// The cell text of one row: TFLOP/s, or a mark for a row that has no speed.
std::string markdown_cell(const ResultRow&);
std::string results_markdown(const std::string& title, const std::vector<ResultRow>&);
void write_results_markdown(const std::string& path, const std::string& title, const std::vector<ResultRow>&);

}  // namespace attnbench
