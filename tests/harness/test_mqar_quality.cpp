// The MQAR input kind (inputs, recall, validation), the approximate rows' check and the speed-quality table.
#include <catch2/catch.hpp>

#include <cmath>

#include "attnbench/registry.hpp"
#include "harness/case_row.hpp"
#include "harness/mqar.hpp"
#include "harness/scenario.hpp"
#include "reports/markdown_writer.hpp"
#include "reports/quality_table.hpp"
#include "tests/harness/scenario_error_util.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {

using test::expand_error;

Outputs run_forward(const std::string& backend, const Problem& p, const Inputs& in) {
  MemoryTracker mem;
  Resources r{&mem, &mem, nullptr, 0};
  auto exec = Registry::instance().find_backend(backend)->prepare(p, in, r);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

Problem mqar_problem(std::int64_t seqlen) {
  Problem p;
  p.shape = {.batch = 2, .heads_q = 4, .heads_kv = 2, .seqlen_q = seqlen, .seqlen_k = seqlen, .head_dim = 64};
  p.mask = build_mask(MaskSpec{"causal", {}}, seqlen, seqlen);
  p.softmax_scale = 1.0 / 8.0;
  p.seed = 3;
  return p;
}

}  // namespace

TEST_CASE("MQAR: exact attention recalls every pair, a broken output does not", "[mqar]") {
  const Problem p = mqar_problem(256);
  const InputSpec spec{"mqar", 32, 8192, 7};
  REQUIRE(mqar_unfit(p, spec).empty());
  MqarProbes probes;
  const Inputs in = generate_mqar_inputs(p, spec, probes);
  REQUIRE(probes.position.size() == 2 * 32);
  for (std::size_t j = 0; j < probes.position.size(); ++j) {
    CHECK(probes.position[j] >= 32);  // probes come after the pairs
    CHECK(probes.position[j] < 256);
  }
  for (const char* exact : {"cpu.reference", "cpu.flash", "cpu.math"}) {
    const Outputs out = run_forward(exact, p, in);
    INFO(exact);
    CHECK(mqar_recall(p, probes, out.o) >= 0.99);
  }
  Outputs out = run_forward("cpu.flash", p, in);
  // Broken: the probe rows' outputs moved one query down; or nothing at all.
  std::vector<float> shifted(out.o.size(), 0.0f);
  const std::size_t row = static_cast<std::size_t>(p.shape.heads_q * p.shape.value_dim());
  std::copy(out.o.begin(), out.o.end() - row, shifted.begin() + row);
  CHECK(mqar_recall(p, probes, shifted) < 0.2);
  CHECK(mqar_recall(p, probes, std::vector<float>(out.o.size(), 0.0f)) < 0.2);
  CHECK(std::isnan(mqar_recall(p, probes, {})));  // a bwd pass has no O
}

TEST_CASE("MQAR: cases that cannot hold the probe are named, not run", "[mqar]") {
  const InputSpec spec{"mqar", 64, 8192, 1};
  CHECK_THAT(mqar_unfit(mqar_problem(100), spec), Contains("64 pairs need seqlen >= 128"));
  CHECK(mqar_unfit(mqar_problem(128), spec).empty());
  CHECK(mqar_unfit(mqar_problem(100), InputSpec{}).empty());  // random inputs fit anything
}

TEST_CASE("MQAR: inputs fields expand into cases and are validated with file, field and accepted values",
          "[mqar][scenario][errors]") {
  const std::string base = "backends: [cpu.flash]\nmasks: [causal]\nseqlens: [128, 256]\n";
  const auto cases =
      expand(parse_scenario(base + "inputs: {kind: mqar, pairs: [4, 16], seed: 2}\n", "scen.yaml"));
  REQUIRE(cases.size() == 4);
  CHECK(cases[0].inputs.pairs == 4);
  CHECK(cases[0].inputs.vocab == 8192);
  CHECK(cases[1].inputs.pairs == 16);
  CHECK(cases[0].id() != cases[1].id());
  CHECK_THAT(cases[1].label(), Contains("mqar{pairs=16}"));
  CHECK(cases[1].inputs.json() == R"({"kind":"mqar","pairs":16,"seed":2,"vocab":8192})");
  // Random inputs stay the default, with the ids they always had.
  const auto plain = expand(parse_scenario(base, "scen.yaml"));
  CHECK_FALSE(plain[0].inputs.mqar());
  CHECK(plain[0].id() == "0000-cpu.flash-none-w1-causal-q128-k128-b1-h8x8-d64-fp32-fwd");

  CHECK_THAT(expand_error(base + "inputs: {kind: zoology}\n"),
             Contains("scen.yaml:4") && Contains("inputs.kind") && Contains("'zoology'") &&
                 Contains("accepted: random, mqar"));
  CHECK_THAT(expand_error(base + "inputs: {kind: mqar}\n"), Contains("inputs.pairs") && Contains("required"));
  CHECK_THAT(expand_error(base + "inputs: {kind: mqar, pairs: 0}\n"), Contains("inputs.pairs"));
  CHECK_THAT(expand_error(base + "inputs: {kind: mqar, pairs: 64, vocab: 100}\n"),
             Contains("inputs.pairs") && Contains("accepted: 1 to 50"));
  CHECK_THAT(expand_error(base + "inputs: {kind: mqar, pairs: 4, vocab: 1000000}\n"),
             Contains("inputs.vocab"));
  CHECK_THAT(expand_error(base + "inputs: {kind: random, pairs: 4}\n"),
             Contains("inputs.pairs") && Contains("kind mqar only"));
  CHECK_THAT(expand_error(base + "inputs: {kind: mqar, pairs: 4, keys: 3}\n"),
             Contains("inputs") && Contains("keys"));
  CHECK_THAT(expand_error(base + "inputs: [mqar]\n"), Contains("inputs") && Contains("map"));
}

TEST_CASE("approximate backends take their options from the scenario, and bad ones are refused",
          "[approx][scenario]") {
  const std::string base = "masks: [causal]\nseqlens: [128]\n";
  // Each backend gets only the options it reads: one cpu.flash case, two cpu.hyper cases.
  const auto cases = expand(parse_scenario(
      "backends: [cpu.flash, cpu.hyper]\n" + base + "options: {samples: [16, 32], projections: 5}\n",
      "scen.yaml"));
  REQUIRE(cases.size() == 3);
  int flash = 0;
  for (const auto& c : cases) {
    if (c.backend == "cpu.flash") {
      ++flash;
      CHECK(c.problem.options.empty());
    } else {
      CHECK(c.problem.options.size() == 2);
      CHECK(c.problem.options.at("projections") == "5");
    }
  }
  CHECK(flash == 1);
  CHECK_THAT(expand_error("backends: [cpu.hyper]\n" + base + "options: {samples: lots}\n"),
             Contains("scen.yaml") && Contains("options.samples") && Contains("'lots'") &&
                 Contains("accepted: an integer from 0"));
  CHECK_THAT(expand_error("backends: [cpu.linear]\n" + base + "options: {feature_dim: 0}\n"),
             Contains("options.feature_dim") && Contains("accepted: an integer from 1 to 64"));
  CHECK_THAT(
      expand_error("backends: [cpu.performer]\n" + base + "options: {featurs: 64}\n"),
      Contains("options.featurs") && Contains("no strategy or backend") && Contains("accepted: features"));
}

TEST_CASE("approximate rows: judged by the backend's own tolerance on O, with approx_rel_l2",
          "[approx][check]") {
  Problem p = mqar_problem(64);
  BackendInfo info;
  info.name = "cpu.fake";
  info.approximate = true;
  info.tolerance_fwd = 0.5;
  Scenario s;
  s.check.tolerance_fwd = 1e-6;  // for exact kernels: not applied to approximate rows
  Outputs ref, got;
  ref.o = {1.0f, 0.0f, 0.0f, 1.0f};
  ref.lse = {0.0f, 0.0f};
  got.o = {0.8f, 0.0f, 0.0f, 1.0f};
  got.lse = {5.0f, 5.0f};  // an estimate: not checked
  ResultRow row;
  apply_check(row, s, info, p, &got, &ref);
  CHECK(row.status == Status::ok);
  REQUIRE(row.find_extra("approx_rel_l2") != nullptr);
  CHECK(row.find_extra("approx_rel_l2")->value == Approx(0.2 / std::sqrt(2.0)).epsilon(1e-6));
  got.o[0] = std::nanf("");
  ResultRow bad;
  apply_check(bad, s, info, p, &got, &ref);
  CHECK(bad.status == Status::mismatch);
  CHECK_THAT(bad.message, Contains("cpu.fake's own tolerance"));
  // An exact backend's row keeps the scenario's tolerance and has no approx_rel_l2.
  info.approximate = false;
  got.o[0] = 0.8f;
  ResultRow exact;
  apply_check(exact, s, info, p, &got, &ref);
  CHECK(exact.status == Status::mismatch);
  CHECK(exact.find_extra("approx_rel_l2") == nullptr);
}

TEST_CASE("results.md: the speed-quality table puts each method beside the fastest exact row",
          "[approx][report]") {
  const auto row = [](std::string backend, double ms, double err, double recall) {
    ResultRow r;
    r.backend = std::move(backend);
    r.mask = "causal";
    r.pass = "fwd";
    r.dtype = "fp32";
    r.seqlen_q = r.seqlen_k = 1024;
    r.time_ms = ms;
    r.extra.push_back({"inputs", ResultRow::nan, R"({"kind":"mqar","pairs":16,"seed":1,"vocab":8192})"});
    if (std::isfinite(err)) r.extra.push_back({"approx_rel_l2", err, {}});
    r.extra.push_back({"recall", recall, {}});
    return r;
  };
  std::vector<ResultRow> rows{row("cpu.reference", 40.0, NAN, 1.0), row("cpu.flash", 10.0, NAN, 1.0),
                              row("cpu.hyper", 4.0, 0.25, 0.75)};
  rows[2].extra.push_back({"options", ResultRow::nan, R"({"block":"64"})"});
  const auto q = quality_rows(rows);
  REQUIRE(q.size() == 3);
  CHECK(q[2].exact == &rows[1]);
  CHECK(q[2].speedup == Approx(2.5));
  const std::string md = results_markdown("t", rows);
  CHECK_THAT(md, Contains("## Speed and quality"));
  CHECK_THAT(
      md,
      Contains(
          "| fwd | cpu.hyper{block=64} | causal | 16 | 1024 | ok | 4 | 2.50× vs cpu.flash | 0.25 | 0.75 |"));
  CHECK_THAT(md, Contains("| fwd | cpu.flash | causal | 16 | 1024 | ok | 10 | 1 (exact) |  | 1 |"));
  // Without quality columns there is no such section.
  ResultRow plain = rows[1];
  plain.extra.clear();
  CHECK_THAT(results_markdown("t", {plain}), !Contains("Speed and quality"));
}
