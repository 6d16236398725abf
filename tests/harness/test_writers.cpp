// Golden tests of the CSV, JSON and Markdown writers against checked-in expected files.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/case_key.hpp"
#include "reports/csv_writer.hpp"
#include "reports/json_reader.hpp"
#include "reports/json_writer.hpp"
#include "reports/markdown_writer.hpp"

using namespace attnbench;

namespace {

std::vector<ResultRow> sample_rows() {
  ResultRow a;
  a.backend = "cpu.flash";
  a.mask = "causal_sliding_window";
  a.mask_params = R"({"window":256})";
  a.batch = 1;
  a.heads_q = 8;
  a.heads_kv = 2;
  a.seqlen_q = a.seqlen_k = 1024;
  a.head_dim = 64;
  a.dtype = "fp32";
  a.pass = "fwd";
  a.time_ms = 1.5;
  a.time_ms_min = 1.25;
  a.time_ms_max = 2;
  a.noise_pct = 3.25;
  a.iters = 12;
  a.area = 230528;
  a.density = 0.2198486328125;
  a.tflops = 0.0787;
  a.peak_mem_bytes = 4194304;
  a.max_abs_err = 1.5e-7;
  a.rel_l2_err = 2.5e-7;
  a.extra = {{"stop_reason", ResultRow::nan, "converged"}, {"time_ms_p20", 1.3, {}}};

  ResultRow b = a;
  b.backend = "cpu.math";
  b.status = Status::oom;
  b.time_ms = b.time_ms_min = b.time_ms_max = b.noise_pct = b.tflops = ResultRow::nan;
  b.max_abs_err = b.rel_l2_err = ResultRow::nan;
  b.iters = 0;
  b.message = "allocation of 4 bytes exceeds the memory budget, \"8 GB\"";
  b.extra.clear();

  ResultRow c = a;
  c.seqlen_q = c.seqlen_k = 2048;
  c.status = Status::mismatch;
  c.tflops = 0.5;
  ResultRow d = c;
  d.backend = "cpu.math";
  d.status = Status::unsupported;
  return {a, b, c, d};
}

std::string golden_path(const std::string& name) {
  return std::string(ATTNBENCH_SOURCE_DIR) + "/tests/harness/golden/" + name;
}

// ATTNBENCH_UPDATE_GOLDEN=1 rewrites the expected files (review the diff before committing).
std::string read_golden(const std::string& name, const std::string& got) {
  if (std::getenv("ATTNBENCH_UPDATE_GOLDEN") != nullptr) std::ofstream(golden_path(name)) << got;
  std::ifstream in(golden_path(name));
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Line by line, so a failure names the first differing line (google/benchmark's output tests do the same).
void check_lines(const std::string& got, const std::string& expected) {
  std::istringstream g(got), e(expected);
  std::string gl, el;
  int line = 0;
  while (true) {
    const bool more_g = static_cast<bool>(std::getline(g, gl));
    const bool more_e = static_cast<bool>(std::getline(e, el));
    ++line;
    INFO("line " << line);
    REQUIRE(more_g == more_e);
    if (!more_g) break;
    CHECK(gl == el);
  }
}

}  // namespace

TEST_CASE("CSV: required columns first in order, quoting, empty cells for NaN", "[writers]") {
  const auto rows = sample_rows();
  std::string csv = CsvWriter::header() + "\n";
  for (const auto& r : rows) csv += CsvWriter::format_row(r) + "\n";
  check_lines(csv, read_golden("results.csv", csv));
  CHECK(CsvWriter::header().rfind(
            "backend,strategy,world_size,mask,mask_params,seed,batch,heads_q,heads_kv,seqlen_q,"
            "seqlen_k,head_dim,dtype,pass,status,time_ms,time_ms_min,time_ms_max,noise_pct,iters,"
            "area,density,tflops,peak_mem_bytes,max_abs_err,rel_l2_err,message",
            0) == 0);
}

TEST_CASE("JSON: schema_version, context, results with nulls for missing numbers", "[writers]") {
  const Context ctx = {{"tool", "\"attnbench\""}, {"cores", "2"}, {"scenario", "\"name: t\\n\""}};
  const std::string json = results_json(ctx, sample_rows()) + "\n";
  check_lines(json, read_golden("results.json", json));
}

TEST_CASE("Markdown: a pivot per pass and mask with status marks and a legend", "[writers]") {
  const std::string md = results_markdown("golden", sample_rows());
  check_lines(md, read_golden("results.md", md));
}

TEST_CASE("results.json reads back to the same rows and case keys", "[writers]") {
  const auto rows = sample_rows();
  const std::string path = std::string(ATTNBENCH_SOURCE_DIR) + "/tests/harness/golden/results.json";
  const ResultsFile f = read_results_json(path);
  CHECK(f.schema_version == 1);
  REQUIRE(f.rows.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(case_key(f.rows[i]) == case_key(rows[i]));
    CHECK(f.rows[i].status == rows[i].status);
    CHECK(f.rows[i].message == rows[i].message);
    CHECK(
        (std::isnan(rows[i].time_ms) ? std::isnan(f.rows[i].time_ms) : f.rows[i].time_ms == rows[i].time_ms));
  }
  CHECK(f.rows[0].find_extra("stop_reason")->text == "converged");
  CHECK(case_key(rows[0]) != case_key(rows[2]));  // differ by seqlen only
}

TEST_CASE("reading a malformed or foreign results file is one clear error", "[writers]") {
  const std::string dir = std::string(ATTNBENCH_SOURCE_DIR) + "/tests/harness/golden/";
  CHECK_THROWS_WITH(read_results_json(dir + "missing.json"),
                    Catch::Contains("missing.json") && Catch::Contains("no such file"));
  CHECK_THROWS_WITH(read_results_json(dir + "results.csv"), Catch::Contains("malformed JSON"));
}
