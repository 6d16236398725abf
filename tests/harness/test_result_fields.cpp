// The field table: every column round-trips through CSV and JSON, the case key, enum value lists, bytes/gbps.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>

#include "harness/case_key.hpp"
#include "harness/result_fields.hpp"
#include "harness/traffic.hpp"
#include "masks/library.hpp"
#include "reports/csv_reader.hpp"
#include "reports/csv_writer.hpp"
#include "reports/json_reader.hpp"
#include "reports/json_writer.hpp"

using namespace attnbench;

namespace {

// A row with a distinct value in every column of the table (numbers exact in six digits),
// plus an optional extra the table does not know.
ResultRow full_row() {
  ResultRow r;
  long long i = 0;
  for (const auto& f : result_fields()) {
    ++i;
    switch (f.type) {
      case FieldType::text: f.set(r, Cell::of_text("t_" + f.name + ", \"quoted\"")); break;
      case FieldType::integer: f.set(r, Cell::of_integer(1000 * i + 7)); break;
      case FieldType::number: f.set(r, Cell::of_number(0.25 * static_cast<double>(i))); break;
      case FieldType::json: f.set(r, Cell::of_json(R"({"b":[1,2],"a":"x"})")); break;
      case FieldType::status: f.set(r, Cell::of_text("mismatch")); break;
    }
  }
  r.extra.push_back({"rank_time_ms", ResultRow::nan, "[1.5,2.5]", true});
  return r;
}

void check_same_cells(const ResultRow& got, const ResultRow& want) {
  for (const auto& f : result_fields()) {
    INFO("column " << f.name);
    CHECK(cell_text(f.get(got)) == cell_text(f.get(want)));
    CHECK(f.get(got).kind == f.get(want).kind);
  }
}

}  // namespace

TEST_CASE("the field table: required columns first, in DESIGN.md's order, then the standard extras",
          "[schema]") {
  const auto& req = required_columns();
  REQUIRE(req.size() == 27);
  CHECK(req.front() == "backend");
  CHECK(req.back() == "message");
  std::size_t i = 0;
  for (const auto& f : result_fields()) {
    INFO(f.name);
    CHECK((f.role == FieldRole::required) == (i < req.size()));
    CHECK(bool(f.get));
    CHECK(bool(f.set));
    ++i;
  }
  CHECK(csv_columns().size() == required_columns().size() + standard_extra_columns().size());
}

TEST_CASE("every column is written and read back identically in CSV and JSON", "[schema]") {
  const ResultRow row = full_row();
  SECTION("CSV") {
    const std::string csv = CsvWriter::header() + "\n" + CsvWriter::format_row(row) + "\n";
    const auto back = parse_results_csv(csv, "t.csv");
    REQUIRE(back.size() == 1);
    check_same_cells(back[0], row);
    CHECK(CsvWriter::format_row(back[0]) == CsvWriter::format_row(row));
  }
  SECTION("JSON") {
    const std::string json = results_json({}, {row});
    const auto back = parse_results_json(json, "t.json");
    REQUIRE(back.rows.size() == 1);
    check_same_cells(back.rows[0], row);
    CHECK(results_json({}, back.rows) == json);  // optional extras too, in the same order
  }
}

TEST_CASE("the CSV reader takes empty standard extras as absent and names bad cells", "[schema]") {
  ResultRow r;
  r.backend = "b";
  r.mask = "causal";
  const auto back = parse_results_csv(CsvWriter::header() + "\n" + CsvWriter::format_row(r) + "\n", "t.csv");
  REQUIRE(back.size() == 1);
  CHECK(back[0].extra.empty());
  CHECK(std::isnan(back[0].time_ms));
  std::string bad = CsvWriter::format_row(r);
  bad.replace(bad.find(",1,causal"), 2, ",x");  // world_size
  CHECK_THROWS_WITH(parse_results_csv(CsvWriter::header() + "\n" + bad + "\n", "t.csv"),
                    Catch::Contains("t.csv: row 1: field 'world_size' is 'x' (expected an integer)"));
  CHECK_THROWS_WITH(parse_results_csv("backend,strategy\n", "h.csv"),
                    Catch::Contains("field 'world_size' missing"));
  CHECK_THROWS_WITH(read_results_csv("no/such/results.csv"),
                    Catch::Contains("no/such/results.csv: no such file"));
}

TEST_CASE("one case key: canonical mask parameters and options, every key column counts", "[schema]") {
  ResultRow a;
  a.backend = "cpu.flash";
  a.mask = "global_sliding_window";
  a.mask_params = R"({"window":4,"global":2})";
  ResultRow b = a;
  b.mask_params = R"({ "global": 2, "window": 4 })";
  CHECK(case_key(a) == case_key(b));
  b.extra.push_back({"options", ResultRow::nan, "{}"});
  CHECK(case_key(a) == case_key(b));  // empty options = no options
  a.extra.push_back({"options", ResultRow::nan, R"({"balance":"area","chunks_per_rank":"2"})"});
  b.extra.back().text = R"({"chunks_per_rank":"2","balance":"area"})";
  CHECK(case_key(a) == case_key(b));
  for (const auto& f : result_fields()) {
    if (!f.key || f.role != FieldRole::required) continue;
    ResultRow c = a;
    f.set(c, f.type == FieldType::integer ? Cell::of_integer(12345) : Cell::of_text("other"));
    INFO(f.name);
    CHECK(case_key(c) != case_key(a));
  }
  ResultRow t = a;
  t.time_ms = 3.0;  // a measurement is not part of the case
  t.status = Status::error;
  CHECK(case_key(t) == case_key(a));
}

TEST_CASE("accepted-value lists come from the enums", "[schema]") {
  CHECK(accepted_names<Status>() == "ok, unsupported, oom, error, mismatch, skipped");
  CHECK(accepted_names<Pass>() == "fwd, bwd, fwd_bwd");
  CHECK(accepted_names<DType>() == "fp32, fp64, bf16, fp16");
  ResultRow r;
  CHECK_THROWS_WITH(find_field("status")->set(r, Cell::of_text("fine")),
                    "field 'status' is 'fine' (accepted: ok, unsupported, oom, error, mismatch, skipped)");
}

TEST_CASE("bytes: the minimum traffic of Q, visible K and V, O and LSE (and gradients)", "[schema][bytes]") {
  const std::int64_t B = 2, Hq = 4, Hkv = 2, D = 16;
  auto problem = [&](const std::string& mask, std::map<std::string, std::string> params, std::int64_t sq,
                     std::int64_t sk, Pass pass, DType dtype) {
    Problem p;
    p.shape = {B, Hq, Hkv, sq, sk, D};
    p.pass = pass;
    p.dtype = dtype;
    p.mask = build_mask({mask, std::move(params)}, sq, sk);
    return p;
  };
  // Written out element by element: keys = visible key positions.
  auto expected = [&](std::int64_t sq, std::int64_t keys, bool backward, double elem) {
    const double q = B * sq * Hq * D, kv = B * keys * Hkv * D, lse = B * Hq * sq;
    const double fwd = q + kv + kv + q + lse;
    return elem * (backward ? fwd + q + q + kv + kv : fwd);
  };
  // Causal, Sq = Sk: every key is visible.
  CHECK(pass_bytes(problem("causal", {}, 64, 64, Pass::fwd, DType::fp16)) == expected(64, 64, false, 2));
  CHECK(pass_bytes(problem("causal", {}, 64, 64, Pass::bwd, DType::fp32)) == expected(64, 64, true, 4));
  CHECK(pass_bytes(problem("causal", {}, 64, 64, Pass::fwd_bwd, DType::fp32)) == expected(64, 64, true, 4));
  // Causal documents: each document's last query sees all its keys.
  CHECK(pass_bytes(problem("causal_document", {{"doc_lengths", "[10,30,24]"}}, 64, 64, Pass::fwd,
                           DType::bf16)) == expected(64, 64, false, 2));
  // Cross-attention, 16 queries on 64 keys, causal window 8 (bottom-right aligned):
  // queries sit on keys 48..63 and see 8 back, so only keys 40..63 are read.
  CHECK(pass_bytes(problem("causal_sliding_window", {{"window", "8"}}, 16, 64, Pass::fwd, DType::fp32)) ==
        expected(16, 24, false, 4));
  // Causal cross-attention, Sq = 16 < Sk = 64 (bottom-right aligned): the last query sees every key.
  CHECK(pass_bytes(problem("causal", {}, 16, 64, Pass::fwd, DType::fp32)) == expected(16, 64, false, 4));
}

TEST_CASE("bytes is an integer column and gbps a number in both files", "[schema][bytes]") {
  ResultRow r;
  r.extra = {{"bytes", 1048576.0, {}}, {"gbps", 12.5, {}}};
  const std::string line = CsvWriter::format_row(r);
  CHECK(line.find(",1048576,12.5,") != std::string::npos);  // the instruction-metric columns follow
  const std::string json = results_json({}, {r});
  CHECK(json.find("\"bytes\": 1048576,") != std::string::npos);
  CHECK(json.find("\"gbps\": 12.5") != std::string::npos);
}

TEST_CASE("docs/results.md names every column of the field table", "[schema]") {
  std::ifstream in(std::string(ATTNBENCH_SOURCE_DIR) + "/docs/results.md");
  REQUIRE(in.good());
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& name : csv_columns()) {
    INFO(name);
    CHECK(doc.find("`" + name + "`") != std::string::npos);
  }
}
