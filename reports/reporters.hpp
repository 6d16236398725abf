// Reporters as objects (nvbench's printer pattern): the run loop hands each finished row to every reporter
// in a list, then finishes them; a new output format is one class.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"
#include "reports/csv_writer.hpp"
#include "reports/json_writer.hpp"
#include "reports/row_set.hpp"
#include "reports/markdown_writer.hpp"

namespace attnbench {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // Before the first row: the rows the output folder keeps (--resume, --append), in
  // folder order; empty for a fresh run. Not calling it is a fresh run too.
  void begin(const std::vector<ResultRow>& kept) { do_begin(kept); }
  // A row has finished (rows of a resumed run included), in run order.
  void print_row(const ResultRow& row) { do_print_row(row); }
  // The run is over (or stopped): `rows` are all the folder's rows, kept ones included.
  void finish(const std::vector<ResultRow>& rows) { do_finish(rows); }

 private:
  virtual void do_begin(const std::vector<ResultRow>&) {}
  virtual void do_print_row(const ResultRow&) {}
  virtual void do_finish(const std::vector<ResultRow>&) {}
};

// results.csv: replaced atomically with the kept rows at begin, then every row appended
// (one checked write) as it finishes, so a killed run loses no finished row; at the end
// rewritten atomically as the final rows when a rerun case replaced a kept row.
class CsvReporter final : public Reporter {
 public:
  explicit CsvReporter(std::string path) : path_(std::move(path)) {}

 private:
  void do_begin(const std::vector<ResultRow>& kept) override;
  void do_print_row(const ResultRow& row) override;
  void do_finish(const std::vector<ResultRow>& rows) override;
  std::string path_;
  std::unique_ptr<CsvWriter> csv_;
  std::size_t lines_ = 0;  // data lines in the file
};

// results.json: rewritten whole and atomically, so at most once a second while rows
// arrive (a long sweep would otherwise rewrite it O(rows²)), and once more at the end.
class JsonReporter final : public Reporter {
 public:
  JsonReporter(std::string path, Context context) : path_(std::move(path)), context_(std::move(context)) {}

 private:
  void do_begin(const std::vector<ResultRow>& kept) override;
  void do_print_row(const ResultRow& row) override;
  void do_finish(const std::vector<ResultRow>& rows) override;
  std::string path_;
  Context context_;
  RowSet rows_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// results.md: the pivot tables, at the end.
class MarkdownReporter final : public Reporter {
 public:
  MarkdownReporter(std::string path, std::string title, MarkdownOptions options = {})
      : path_(std::move(path)), title_(std::move(title)), options_(std::move(options)) {}

 private:
  void do_finish(const std::vector<ResultRow>& rows) override;
  std::string path_, title_;
  MarkdownOptions options_;
};

// plots/: data, a gnuplot script and the images, at the end (prints where they are).
class PlotsReporter final : public Reporter {
 public:
  explicit PlotsReporter(std::string out_dir) : out_dir_(std::move(out_dir)) {}

 private:
  void do_finish(const std::vector<ResultRow>& rows) override;
  std::string out_dir_;
};

using ReporterList = std::vector<std::unique_ptr<Reporter>>;

// The reporters of `attnbench run` writing into out_dir: CSV, JSON, Markdown, plots.
// noise_limit_pct: the scenario's timing.max_noise_pct (results.md marks rows that missed it).
ReporterList standard_reporters(const std::string& out_dir, const std::string& title, const Context& context,
                                double noise_limit_pct = 3.0);

}  // namespace attnbench
