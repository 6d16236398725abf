// Reporters as objects (nvbench's printer pattern): the run loop hands each finished row to every reporter
// in a list, then finishes them; a new output format is one class.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/result_row.hpp"
#include "reports/csv_writer.hpp"
#include "reports/json_writer.hpp"
#include "reports/markdown_writer.hpp"

namespace attnbench {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // A row has finished (rows of a resumed run included), in run order.
  void print_row(const ResultRow& row) { do_print_row(row); }
  // The run is over: `rows` are all of them, in run order.
  void finish(const std::vector<ResultRow>& rows) { do_finish(rows); }

 private:
  virtual void do_print_row(const ResultRow&) {}
  virtual void do_finish(const std::vector<ResultRow>&) {}
};

// results.csv: every row appended and flushed as it finishes.
class CsvReporter final : public Reporter {
 public:
  explicit CsvReporter(const std::string& path) : csv_(path) {}

 private:
  void do_print_row(const ResultRow& row) override { csv_.write(row); }
  CsvWriter csv_;
};

// results.json: rewritten whole, so at most once a second while rows arrive (a long
// sweep would otherwise rewrite it O(rows²)), and once more at the end.
class JsonReporter final : public Reporter {
 public:
  JsonReporter(std::string path, Context context) : path_(std::move(path)), context_(std::move(context)) {}

 private:
  void do_print_row(const ResultRow& row) override;
  void do_finish(const std::vector<ResultRow>& rows) override;
  std::string path_;
  Context context_;
  std::vector<ResultRow> rows_;
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
