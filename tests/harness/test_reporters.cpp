// The reporter list of `attnbench run`: every reporter sees every row, then finishes; the standard ones write
// files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "reports/json_reader.hpp"
#include "reports/reporters.hpp"

using namespace attnbench;
namespace fs = std::filesystem;

namespace {

// A format added as one class: counts what it is handed.
class CountingReporter final : public Reporter {
 public:
  int rows = 0, finished_rows = -1;
  std::string order;

 private:
  void do_print_row(const ResultRow& r) override { ++rows, order += r.backend; }
  void do_finish(const std::vector<ResultRow>& all) override { finished_rows = static_cast<int>(all.size()); }
};

std::size_t line_count(const fs::path& p) {
  std::ifstream in(p);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace

TEST_CASE("every reporter in the list gets every row in order, then finish", "[reporters]") {
  const fs::path dir = fs::temp_directory_path() / ("attnbench-reporters-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ::setenv("ATTNBENCH_GNUPLOT", "none", 1);  // data and script only: no program runs

  ReporterList list = standard_reporters(dir.string(), "t", {{"tool", "\"attnbench\""}});
  CHECK(list.size() == 4);  // CSV, JSON, Markdown, plots
  auto counting = std::make_unique<CountingReporter>();
  CountingReporter* seen = counting.get();
  list.push_back(std::move(counting));

  std::vector<ResultRow> rows(2);
  rows[0].backend = "a";
  rows[1].backend = "b";
  for (auto& r : rows) {
    r.mask = "causal";
    for (auto& reporter : list) reporter->print_row(r);
  }
  CHECK(seen->rows == 2);
  CHECK(seen->order == "ab");
  CHECK(line_count(dir / "results.csv") == 3);  // header + a line per row, flushed as they came
  CHECK_FALSE(fs::exists(dir / "results.md"));  // Markdown is written at the end

  for (auto& reporter : list) reporter->finish(rows);
  CHECK(seen->finished_rows == 2);
  CHECK(read_results_json((dir / "results.json").string()).rows.size() == 2);
  CHECK(fs::exists(dir / "results.md"));
  fs::remove_all(dir);
}
