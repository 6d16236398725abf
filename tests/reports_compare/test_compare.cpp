// The comparator's contract on checked-in fixtures: what counts as a regression, and what does not.
#include <catch2/catch.hpp>

#include <cmath>

#include "attnbench/types.hpp"
#include "reports/compare.hpp"
#include "harness/schema/case_key.hpp"
#include "reports/compare_markdown.hpp"
#include "tests/reports_compare/golden.hpp"

using namespace attnbench;
using attnbench::test::fixture;

namespace {

CompareOutcome run(const std::string& current, CompareOptions opt = {}) {
  return compare_files(fixture("baseline.json"), fixture(current), opt);
}

const RowComparison& only_row(const CompareReport& rep, ChangeClass c) {
  const RowComparison* found = nullptr;
  for (const auto& r : rep.rows)
    if (r.change == c) {
      REQUIRE(found == nullptr);
      found = &r;
    }
  REQUIRE(found != nullptr);
  return *found;
}

}  // namespace

TEST_CASE("identical runs compare as all same and exit 0") {
  auto out = run("baseline.json");
  REQUIRE(out.exit_code == 0);
  REQUIRE(out.report->rows.size() == 8);
  CHECK(out.report->count(ChangeClass::same) == 8);
  CHECK(out.report->warnings.empty());
  CHECK(out.report->geomean_ratio == Approx(1.0));
  CHECK(out.report->timed_rows == 7);  // the unsupported row has no time
}

TEST_CASE("a row 30 % slower beyond its noise fails and is named in the report") {
  auto out = run("slower_30pct.json");
  REQUIRE(out.exit_code == 1);
  const auto& r = only_row(*out.report, ChangeClass::slower);
  CHECK(r.fails);
  CHECK(r.change_pct == Approx(30.0));
  CHECK(r.noise_bar_pct == Approx(2.0 * std::sqrt(1.0 + 1.44)));
  CHECK(r.label == "cpu.reference · causal · B1 H4 S256 D64 · fp32 fwd");
  const std::string md = render_compare_markdown(*out.report);
  CHECK(md.find("FAIL, 1 regression") != std::string::npos);
  const auto regressions = md.find("### Regressions");
  REQUIRE(regressions != std::string::npos);
  CHECK(md.find("| cpu.reference · causal · B1 H4 S256 D64 · fp32 fwd | 2 ms | 2.6 ms | +30.0 %",
                regressions) != std::string::npos);
}

TEST_CASE("a noisy 3 % change is the same") {
  auto out = run("noisy_3pct.json");
  REQUIRE(out.exit_code == 0);
  CHECK(out.report->count(ChangeClass::same) == 8);
}

TEST_CASE("a change beyond the threshold but within the noise is ambiguous and passes") {
  auto out = run("noisy_12pct.json");
  REQUIRE(out.exit_code == 0);
  const auto& r = only_row(*out.report, ChangeClass::ambiguous);
  CHECK(r.change_pct == Approx(12.0));
  CHECK(r.noise_bar_pct == Approx(2.0 * std::sqrt(64.0 + 81.0)));
  CHECK_FALSE(r.fails);

  SECTION("and fails when asked to") {
    CompareOptions strict;
    strict.fail_on = parse_fail_on("slower,broken,ambiguous");
    CHECK(run("noisy_12pct.json", strict).exit_code == 1);
  }
  SECTION("a smaller noise multiplier turns it into slower") {
    CompareOptions tight;
    tight.noise_sigmas = 0.25;  // bar = 3.0 %
    auto o = run("noisy_12pct.json", tight);
    CHECK(o.exit_code == 1);
    CHECK(o.report->count(ChangeClass::slower) == 1);
  }
}

TEST_CASE("a faster row passes") {
  auto out = run("faster.json");
  REQUIRE(out.exit_code == 0);
  const auto& r = only_row(*out.report, ChangeClass::faster);
  CHECK(r.change_pct == Approx(-40.0));
  CHECK(out.report->geomean_ratio == Approx(std::pow(0.6, 1.0 / 7.0)));
}

TEST_CASE("ok -> mismatch is a status regression and fails") {
  auto out = run("mismatch.json");
  REQUIRE(out.exit_code == 1);
  const auto& r = only_row(*out.report, ChangeClass::broken);
  CHECK(r.baseline->status == Status::ok);
  CHECK(r.current->status == Status::mismatch);
  CHECK(r.current->pass == "bwd");
  CHECK(render_compare_markdown(*out.report).find("broken (ok → mismatch): rel_l2_err 0.31") !=
        std::string::npos);

  SECTION("--fail-on slower alone lets it pass") {
    CompareOptions opt;
    opt.fail_on = parse_fail_on("slower");
    CHECK(run("mismatch.json", opt).exit_code == 0);
  }
}

TEST_CASE("the threshold is a bound: a 30 % change passes under --threshold 40") {
  CompareOptions opt;
  opt.threshold_pct = 40.0;
  CHECK(run("slower_30pct.json", opt).exit_code == 0);
}

TEST_CASE("a different CPU is a warning, not a failure") {
  auto out = run("other_cpu.json");
  REQUIRE(out.exit_code == 0);
  REQUIRE(out.report->warnings.size() == 1);
  CHECK(out.report->warnings[0].find("cpu_model") != std::string::npos);
  CHECK(out.report->warnings[0].find("Other CPU @ 3.1GHz") != std::string::npos);
}

TEST_CASE("a missing file is bad input, exit 2, naming the file") {
  auto out = run("no_such_results.json");
  CHECK(out.exit_code == 2);
  CHECK_FALSE(out.report.has_value());
  CHECK(out.error.find("no_such_results.json: no such file") != std::string::npos);
  CHECK(out.error.find('\n') == std::string::npos);
}

TEST_CASE("malformed JSON is bad input, exit 2, with the place of the error") {
  auto out = run("malformed.json");
  CHECK(out.exit_code == 2);
  CHECK(out.error.find("malformed.json: malformed JSON") != std::string::npos);
  CHECK(out.error.find("line 2") != std::string::npos);
  CHECK(out.error.find('\n') == std::string::npos);
}

TEST_CASE("a row without a required column is bad input naming the row and the field") {
  auto out = run("missing_field.json");
  CHECK(out.exit_code == 2);
  CHECK(out.error.find("missing_field.json: results[0]: field 'seqlen_q' missing") != std::string::npos);
}

TEST_CASE("other shapes of bad input") {
  CHECK_THROWS_AS(parse_run_file("[1, 2]", "list.json"), InputError);
  CHECK_THROWS_WITH(parse_run_file(R"({"schema_version": 2, "results": []})", "v2.json"),
                    Catch::Contains("schema_version 2 unsupported (accepted: 1)"));
  CHECK_THROWS_WITH(parse_fail_on("slower,bogus"), Catch::Contains("unknown class 'bogus'"));
  CompareOptions negative;
  negative.threshold_pct = -1;
  CHECK(run("baseline.json", negative).exit_code == 2);
}

TEST_CASE("rows match on the full case key, mask parameters in any key order") {
  const std::string row =
      R"({"backend":"b","strategy":"none","world_size":1,"mask":"m","mask_params":%P%,"seed":1,)"
      R"("batch":1,"heads_q":2,"heads_kv":2,"seqlen_q":8,"seqlen_k":8,"head_dim":4,"dtype":"fp32",)"
      R"("pass":"fwd","status":"ok","time_ms":1.0,"noise_pct":null})";
  auto doc = [&](const std::string& params, const std::string& seqlen_k = "8") {
    std::string r = row;
    r.replace(r.find("%P%"), 3, params);
    r.replace(r.find("\"seqlen_k\":8"), 12, "\"seqlen_k\":" + seqlen_k);
    return R"({"schema_version":1,"context":{},"results":[)" + r + "]}";
  };
  auto a = parse_run_file(doc(R"("{\"window\":4,\"global\":2}")"), "a.json");
  auto b = parse_run_file(doc(R"("{\"global\":2,\"window\":4}")"), "b.json");
  auto c = parse_run_file(doc(R"("{\"global\":2,\"window\":4}")", "16"), "c.json");
  CHECK(compare_runs(a, b, {}).count(ChangeClass::same) == 1);
  auto ac = compare_runs(a, c, {});
  CHECK(ac.count(ChangeClass::added) == 1);
  CHECK(ac.count(ChangeClass::missing) == 1);
  CHECK(ac.exit_code() == 0);
}

TEST_CASE("status transitions") {
  ResultRow ok;
  ok.status = Status::ok;
  ok.time_ms = 1.0;
  auto with = [](std::string_view status) {
    ResultRow r;
    r.status = *parse_status(status);
    r.time_ms = std::nan("");
    return r;
  };
  const CompareOptions opt;
  CHECK(compare_rows(ok, with("error"), opt).change == ChangeClass::broken);
  CHECK(compare_rows(ok, with("oom"), opt).change == ChangeClass::broken);
  CHECK(compare_rows(ok, with("unsupported"), opt).change == ChangeClass::broken);
  CHECK(compare_rows(ok, with("skipped"), opt).change == ChangeClass::changed);
  CHECK(compare_rows(with("unsupported"), with("error"), opt).change == ChangeClass::broken);
  CHECK(compare_rows(with("error"), with("mismatch"), opt).change == ChangeClass::changed);
  CHECK(compare_rows(with("mismatch"), with("mismatch"), opt).change == ChangeClass::same);
  CHECK(compare_rows(with("mismatch"), ok, opt).change == ChangeClass::fixed);
  CHECK(compare_rows(std::nullopt, with("mismatch"), opt).change == ChangeClass::broken);
  CHECK(compare_rows(std::nullopt, ok, opt).change == ChangeClass::added);
  CHECK(compare_rows(ok, std::nullopt, opt).change == ChangeClass::missing);
  CHECK(compare_rows(ok, with("error"), opt).fails);
  CHECK_FALSE(compare_rows(with("mismatch"), ok, opt).fails);
}

TEST_CASE("strategy options are part of the case key and of the label") {
  const std::string head =
      R"({"schema_version":1,"context":{},"results":[{"backend":"cpu.flash","strategy":"usp",)"
      R"("world_size":4,"mask":"causal","mask_params":"{}","seed":1,"batch":1,"heads_q":8,)"
      R"("heads_kv":8,"seqlen_q":1024,"seqlen_k":1024,"head_dim":64,"dtype":"fp32","pass":"fwd",)"
      R"("status":"ok","time_ms":2.0,"noise_pct":1.0)";
  auto a = parse_run_file(head + R"(,"options":"{\"ulysses_degree\":\"2\"}"}]})", "a.json");
  auto b = parse_run_file(head + R"(,"options":"{\"ulysses_degree\":\"4\"}"}]})", "b.json");
  auto none = parse_run_file(head + "}]}", "none.json");
  CHECK(a.labels[0] == "cpu.flash usp×4{ulysses_degree=2} · causal · B1 H8 S1024 D64 · fp32 fwd");
  CHECK(compare_runs(a, a, {}).count(ChangeClass::same) == 1);
  CHECK(compare_runs(a, b, {}).count(ChangeClass::missing) == 1);
  CHECK(compare_runs(none, a, {}).count(ChangeClass::added) == 1);
}

TEST_CASE("files without heads_k, heads_v, head_dim_v read with K's values and pair with new rows",
          "[kvdims]") {
  const std::string head =
      R"({"schema_version":1,"context":{},"results":[{"backend":"cpu.flash","strategy":"none",)"
      R"("world_size":1,"mask":"causal","mask_params":"{}","seed":1,"batch":1,"heads_q":8,)"
      R"("heads_kv":2,"seqlen_q":1024,"seqlen_k":1024,"head_dim":64,"dtype":"fp32","pass":"fwd",)"
      R"("status":"ok","time_ms":2.0,"noise_pct":1.0)";
  auto old = parse_run_file(head + "}]}", "old.json");
  auto same = parse_run_file(head + R"(,"heads_k":2,"heads_v":2,"head_dim_v":64}]})", "same.json");
  auto other_v = parse_run_file(head + R"(,"heads_k":2,"heads_v":4,"head_dim_v":64}]})", "v.json");
  auto other_dv = parse_run_file(head + R"(,"heads_k":2,"heads_v":2,"head_dim_v":32}]})", "dv.json");
  REQUIRE(old.rows.size() == 1);
  CHECK(row_heads_k(old.rows[0]) == 2);
  CHECK(row_heads_v(old.rows[0]) == 2);
  CHECK(row_head_dim_v(old.rows[0]) == 64);
  CHECK(case_key(old.rows[0]) == case_key(same.rows[0]));
  CHECK(compare_runs(old, same, {}).count(ChangeClass::same) == 1);
  CHECK(compare_runs(old, other_v, {}).count(ChangeClass::added) == 1);
  CHECK(compare_runs(old, other_dv, {}).count(ChangeClass::missing) == 1);
  CHECK(other_v.labels[0] == "cpu.flash · causal · B1 H8/2v4 S1024 D64 · fp32 fwd");
  CHECK(other_dv.labels[0] == "cpu.flash · causal · B1 H8/2 S1024 D64v32 · fp32 fwd");
}
