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
// ok cells also carry the median time and the noise ("0.0123 · 1.2 ms ±4 %"), and a `⚠` when the
// row is doubtful (see doubtful_row).
std::string markdown_cell(const ResultRow&, double noise_limit_pct = 3.0);

// A row whose timing stopped on max_iters or timeout with its noise above the scenario's limit
// (timing.max_noise_pct): its number is shown marked, never bold as the fastest.
bool doubtful_row(const ResultRow&, double noise_limit_pct);

struct MarkdownOptions {
  Context context;               // the run's: its date, host, CPU, revision and scenario open the file
  double noise_limit_pct = 3.0;  // timing.max_noise_pct of the scenario
};

std::string results_markdown(const std::string& title, const std::vector<ResultRow>&,
                             const MarkdownOptions& = {});
void write_results_markdown(const std::string& path, const std::string& title, const std::vector<ResultRow>&,
                            const MarkdownOptions& = {});

}  // namespace attnbench
