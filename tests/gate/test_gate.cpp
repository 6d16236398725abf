// The CI gate's contract: the callgrind dump parser, instructions judged by the threshold alone, the
// bootstrap interval over interleaved rounds, no silent passes (too few pairs is exit 2), and the
// doubt shown in results.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "harness/schema/case_key.hpp"
#include "harness/cli/cmd_compare.hpp"
#include "harness/instructions.hpp"
#include "reports/case_label.hpp"
#include "reports/compare.hpp"
#include "reports/json_writer.hpp"
#include "reports/markdown_writer.hpp"

using namespace attnbench;

namespace {

ResultRow row(const std::string& backend, double time_ms, double noise_pct = 1.0, std::int64_t seqlen = 256) {
  ResultRow r;
  r.backend = backend;
  r.mask = "causal";
  r.batch = 1, r.heads_q = 4, r.heads_kv = 2, r.seqlen_q = r.seqlen_k = seqlen, r.head_dim = 64;
  r.dtype = "fp32";
  r.pass = "fwd";
  r.time_ms = time_ms;
  r.noise_pct = noise_pct;
  r.tflops = 1.0 / time_ms;
  r.iters = 10;
  return r;
}

ResultRow counted(const std::string& backend, double instructions, double time_ms) {
  ResultRow r = row(backend, time_ms, 80.0);  // noisy times: the instructions must decide
  r.extra.push_back({"metric", ResultRow::nan, "instructions"});
  r.extra.push_back({"instructions", instructions, {}});
  return r;
}

RunFile file_of(std::vector<ResultRow> rows, const std::string& path = "run.json") {
  RunFile f;
  f.path = path;
  f.context_json = "{}";
  for (const auto& r : rows) f.labels.push_back(case_label(r));
  f.rows = std::move(rows);
  return f;
}

const RowComparison& find(const CompareReport& rep, const std::string& backend) {
  for (const auto& r : rep.rows)
    if (r.any_row().backend == backend) return r;
  FAIL("no row of " << backend);
  return rep.rows.front();
}

}  // namespace

TEST_CASE("callgrind dump: the totals line is the instruction count, summary the fallback") {
  CHECK(callgrind_dump_instructions("version: 1\ncmd: ./a\nevents: Ir\nsummary: 99\ntotals: 8014\n", "d") ==
        8014);
  CHECK(callgrind_dump_instructions("events: Ir\nsummary: 16014\n", "d") == 16014);
  CHECK_THROWS_WITH(callgrind_dump_instructions("events: Ir\nfn=main\n1 2\n", "x.out"),
                    Catch::Contains("x.out") && Catch::Contains("totals"));
  CHECK_THROWS_WITH(callgrind_dump_instructions("totals: none\n", "x.out"),
                    Catch::Contains("holds no number"));
  CHECK(callgrind_dump_path("", 42, 3) == "callgrind.out.42.3");
  CHECK(callgrind_dump_path("/tmp/cg.%p.out", 7, 1) == "/tmp/cg.7.out.1");
}

TEST_CASE("instructions: judged by the threshold alone, whatever the time noise") {
  const RunFile base = file_of({counted("a", 1e6, 1.0), counted("b", 1e6, 1.0), counted("c", 1e6, 1.0)});
  const RunFile cur =
      file_of({counted("a", 1.06e6, 0.5), counted("b", 1.01e6, 3.0), counted("c", 0.9e6, 1.0)});
  const CompareReport rep = compare_runs(base, cur, {});
  CHECK(find(rep, "a").change == ChangeClass::slower);  // +6 % though the time fell and noise is 80 %
  CHECK(find(rep, "a").metric == "instructions");
  CHECK(find(rep, "b").change == ChangeClass::same);  // +1 % though the time tripled
  CHECK(find(rep, "c").change == ChangeClass::faster);
  CHECK(rep.exit_code() == 1);
}

TEST_CASE("bootstrap interval of the median ratio: narrow for steady ratios, wide for scattered ones") {
  const auto [lo, hi] = bootstrap_median_interval({1.10, 1.11, 1.09, 1.10, 1.12}, 90.0);
  CHECK(lo >= 1.09);
  CHECK(hi <= 1.12);
  const auto [lo2, hi2] = bootstrap_median_interval({0.8, 1.3, 1.0, 1.25, 0.9}, 90.0);
  CHECK(lo2 < 1.0);
  CHECK(hi2 > 1.05);
  // Fixed seed: the same ratios give the same interval.
  CHECK(bootstrap_median_interval({0.8, 1.3, 1.0, 1.25, 0.9}, 90.0) == std::make_pair(lo2, hi2));
}

TEST_CASE("interleaved rounds: slower only when the interval lies above the threshold") {
  // a: 10 % slower in every round; b: a one-round spike; c: scattered around +5 %; d: steady.
  const double a[] = {1.10, 1.09, 1.11, 1.10, 1.12}, b[] = {3.0, 1.0, 1.01, 0.99, 1.0},
               c[] = {1.20, 0.95, 1.10, 0.97, 1.08}, d[] = {1.0, 1.01, 0.99, 1.0, 1.02};
  std::vector<RunPair> rounds;
  for (int i = 0; i < 5; ++i)
    rounds.push_back({file_of({row("a", 1), row("b", 1), row("c", 1), row("d", 1)}),
                      file_of({row("a", a[i]), row("b", b[i]), row("c", c[i]), row("d", d[i])})});
  const CompareReport rep = compare_rounds(rounds, {});
  CHECK(find(rep, "a").change == ChangeClass::slower);
  CHECK(find(rep, "a").rounds == 5);
  CHECK(find(rep, "a").ci_low_pct > 5.0);
  CHECK(find(rep, "b").change == ChangeClass::ambiguous);  // round 0 alone (+200 %) would have failed
  CHECK(find(rep, "b").change_pct == Approx(0.0));         // the median ignores the spike
  CHECK(find(rep, "c").change == ChangeClass::ambiguous);
  CHECK(find(rep, "d").change == ChangeClass::same);
  CHECK(rep.failures == 1);
  // One pair only: the noise-bar rule, as before.
  const CompareReport one = compare_rounds({rounds[0]}, {});
  CHECK(find(one, "b").rounds == 0);
  CHECK(find(one, "b").change == ChangeClass::slower);
}

TEST_CASE("too few baseline rows pairing is bad input naming what changed, not a pass") {
  const RunFile base = file_of({row("a", 1), row("b", 1)}, "base.json");
  const RunFile shape = file_of({row("a", 1, 1, 512), row("b", 1, 1, 512)}, "cur.json");
  const CompareReport rep = compare_runs(base, shape, {});
  CHECK(rep.exit_code() == 0);  // every row new/missing: what used to pass silently
  const std::string e = unpaired_error(base, shape, rep);
  CHECK_THAT(e, Catch::Contains("only 0 of 2 baseline rows") && Catch::Contains("shapes") &&
                    Catch::Contains("Sq=256") && Catch::Contains("Sq=512"));
  CHECK_THAT(e, !Catch::Contains("backends"));
  const RunFile renamed = file_of({row("a", 1), row("x", 1)}, "cur.json");
  CHECK(unpaired_error(base, renamed, compare_runs(base, renamed, {})).empty());  // 1 of 2 = 50 %
  CompareOptions strict;
  strict.min_paired_pct = 100;
  const std::string e2 = unpaired_error(base, renamed, compare_runs(base, renamed, strict));
  CHECK_THAT(e2, Catch::Contains("backends: baseline only [b], current only [x]"));
}

TEST_CASE("compare CLI: unpaired runs exit 2 with one line, unequal round lists too") {
  const auto dir = std::filesystem::temp_directory_path() / "attnbench_test_gate";
  std::filesystem::create_directories(dir);
  const Context ctx = {{"tool", "\"attnbench\""}};
  write_results_json((dir / "a.json").string(), ctx, {row("a", 1), row("b", 1)});
  write_results_json((dir / "b.json").string(), ctx, {row("a", 1, 1, 512), row("b", 1, 1, 512)});
  CompareCommandArgs args;
  args.baseline = (dir / "a.json").string();
  args.current = (dir / "b.json").string();
  args.quiet = true;
  std::ostringstream out, err;
  CHECK(run_compare_command(args, out, err) == 2);
  CHECK_THAT(err.str(), Catch::Contains("pair with a current row") && Catch::Contains("shapes"));
  args.current = args.baseline;
  args.baseline_rounds = {args.baseline};
  std::ostringstream out2, err2;
  CHECK(run_compare_command(args, out2, err2) == 2);
  CHECK_THAT(err2.str(), Catch::Contains("--baseline-round given 1 times, --current-round 0 times"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("results.md opens with the run, carries time and noise, and marks doubtful rows") {
  ResultRow fast_doubt = row("cpu.fast", 1.0, 40.0);
  fast_doubt.extra.push_back({"stop_reason", ResultRow::nan, "max_iters"});
  ResultRow slow_sure = row("cpu.slow", 2.0, 1.0);
  slow_sure.extra.push_back({"stop_reason", ResultRow::nan, "converged"});
  ResultRow slower_sure = row("cpu.slower", 4.0, 1.0);
  slower_sure.extra.push_back({"stop_reason", ResultRow::nan, "converged"});
  MarkdownOptions opt;
  opt.context = {{"date", "\"2026-12-02T10:00:00Z\""},
                 {"host", "\"ci-1\""},
                 {"cpu_model", "\"EPYC\""},
                 {"cores", "2"},
                 {"git_revision", "\"abc1234\""},
                 {"scenario_path", "\"scenarios/ci.yaml\""}};
  const std::string md = results_markdown("ci", {fast_doubt, slow_sure, slower_sure}, opt);
  CHECK_THAT(md, Catch::Contains("Run 2026-12-02T10:00:00Z on ci-1 (EPYC, 2 cores), revision `abc1234`, "
                                 "scenario `ci` (scenarios/ci.yaml)"));
  CHECK(md.find("Run ") < md.find("| seqlen"));
  CHECK_THAT(md, Catch::Contains("| 256 | 1.00 · 1 ms ±40 % ⚠ | **0.5 · 2 ms ±1 %** | 0.25 · 4 ms ±1 % |"));
  CHECK(doubtful_row(fast_doubt, 3.0));
  CHECK(!doubtful_row(fast_doubt, 50.0));  // within the scenario's limit: not doubtful
  CHECK(!doubtful_row(slow_sure, 0.1));    // converged
}
