// The standard reporters of `attnbench run` (see reporters.hpp).
#include "reports/reporters.hpp"

#include "reports/markdown_writer.hpp"
#include "reports/plots.hpp"

namespace attnbench {

void CsvReporter::do_begin(const std::vector<ResultRow>& kept) {
  csv_ = std::make_unique<CsvWriter>(path_, kept);
  lines_ = kept.size();
}

void CsvReporter::do_print_row(const ResultRow& row) {
  if (!csv_) do_begin({});
  csv_->write(row);
  ++lines_;
}

void CsvReporter::do_finish(const std::vector<ResultRow>& rows) {
  if (!csv_) do_begin({});
  csv_->close();
  // Every line is a final row unless a rerun case's row replaced a kept one: then the
  // file holds both, so it is rewritten (atomically) to the final rows once.
  if (lines_ != rows.size()) CsvWriter(path_, rows).close();
}

void JsonReporter::do_begin(const std::vector<ResultRow>& kept) {
  rows_ = RowSet(kept);
  write_results_json(path_, context_,
                     rows_.rows());  // no stale JSON of an earlier run; a CSV-only folder gains one
}

void JsonReporter::do_print_row(const ResultRow& row) {
  rows_.add(row);
  if (std::chrono::steady_clock::now() - last_ >= std::chrono::seconds(1)) {
    write_results_json(path_, context_, rows_.rows());
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
