// The standard reporters of `attnbench run` (see reporters.hpp).
#include "reports/reporters.hpp"

#include "reports/markdown_writer.hpp"
#include "reports/plots.hpp"

namespace attnbench {

void JsonReporter::do_print_row(const ResultRow& row) {
  rows_.push_back(row);
  if (std::chrono::steady_clock::now() - last_ >= std::chrono::seconds(1)) {
    write_results_json(path_, context_, rows_);
    last_ = std::chrono::steady_clock::now();
  }
}

void JsonReporter::do_finish(const std::vector<ResultRow>& rows) {
  write_results_json(path_, context_, rows);
}

void MarkdownReporter::do_finish(const std::vector<ResultRow>& rows) {
  write_results_markdown(path_, title_, rows, options_);
}

void PlotsReporter::do_finish(const std::vector<ResultRow>& rows) { write_plots(rows, out_dir_); }

ReporterList standard_reporters(const std::string& out_dir, const std::string& title, const Context& context,
                                double noise_limit_pct) {
  ReporterList list;
  list.push_back(std::make_unique<CsvReporter>(out_dir + "/results.csv"));
  list.push_back(std::make_unique<JsonReporter>(out_dir + "/results.json", context));
  list.push_back(std::make_unique<MarkdownReporter>(out_dir + "/results.md", title,
                                                    MarkdownOptions{context, noise_limit_pct}));
  list.push_back(std::make_unique<PlotsReporter>(out_dir));
  return list;
}

}  // namespace attnbench
