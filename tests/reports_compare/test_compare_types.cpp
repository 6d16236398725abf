// compare (and --resume, through the same JSON reader) type-checks every field it reads:
// a string where a number belongs is refused naming the file, the row index and the field.
#include <catch2/catch.hpp>

#include <string>

#include "attnbench/types.hpp"
#include "reports/compare.hpp"
#include "reports/json_reader.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {

const std::string kRow =
    R"({"backend": "cpu.reference", "strategy": "none", "world_size": 1, "mask": "causal", "mask_params": "{}", )"
    R"("seed": 0, "batch": 1, "heads_q": 2, "heads_kv": 2, "seqlen_q": 64, "seqlen_k": 64, "head_dim": 16, )"
    R"("dtype": "fp32", "pass": "fwd", "status": "ok", "time_ms": 1.5, "time_ms_min": 1.4, "time_ms_max": 1.6, )"
    R"("noise_pct": 1.0, "iters": 10, "area": 2080, "density": 0.5, "tflops": 0.01, "peak_mem_bytes": 1024, )"
    R"("max_abs_err": null, "rel_l2_err": null, "message": ""})";

// A two-row file whose second row has `from` replaced by `to`; the error, or "" when it loads.
std::string error_with(const std::string& from, const std::string& to) {
  std::string row = kRow;
  const auto at = row.find(from);
  REQUIRE(at != std::string::npos);
  row.replace(at, from.size(), to);
  const std::string text = R"({"schema_version": 1, "context": {}, "results": [)" + kRow + ", " + row + "]}";
  try {
    parse_run_file(text, "run.json");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Contains("run.json: results[1]"));
    return what;
  }
  return "";
}

}  // namespace

TEST_CASE("compare refuses a string where a number belongs, naming file, row and field", "[compare][types]") {
  CHECK_THAT(error_with(R"("time_ms": 1.5)", R"("time_ms": "fast")"),
             Contains("field 'time_ms' is \"fast\" (expected a number"));
  CHECK_THAT(error_with(R"("time_ms": 1.5)", R"("time_ms": "1.5")"), Contains("field 'time_ms' is \"1.5\""));
  CHECK_THAT(error_with(R"("seqlen_q": 64)", R"("seqlen_q": "64")"),
             Contains("field 'seqlen_q' is \"64\" (expected an integer)"));
  CHECK_THAT(error_with(R"("area": 2080)", R"("area": "big")"), Contains("field 'area'"));
  CHECK_THAT(error_with(R"("world_size": 1)", R"("world_size": 1.5)"),
             Contains("field 'world_size' is 1.5 (expected an integer)"));
  CHECK_THAT(error_with(R"("noise_pct": 1.0)", R"("noise_pct": [1])"), Contains("field 'noise_pct'"));
}

TEST_CASE("compare refuses a number or a list where text belongs", "[compare][types]") {
  CHECK_THAT(error_with(R"("backend": "cpu.reference")", R"("backend": 7)"),
             Contains("field 'backend' is 7 (expected a string)"));
  CHECK_THAT(error_with(R"("status": "ok")", R"("status": ["ok"])"), Contains("field 'status'"));
  CHECK_THAT(error_with(R"("mask_params": "{}")", R"("mask_params": 3)"), Contains("field 'mask_params'"));
}

TEST_CASE("well-typed rows still load: null numbers, embedded JSON parameters, integral floats",
          "[compare][types]") {
  CHECK(error_with(R"("time_ms": 1.5)", R"("time_ms": null)").empty());
  CHECK(error_with(R"("mask_params": "{}")", R"("mask_params": {"window": 8})").empty());
  CHECK(error_with(R"("batch": 1)", R"("batch": 1.0)").empty());
}
