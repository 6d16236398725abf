// Scenario parsing (good input, each kind of bad input) and sweep expansion counts.
#include <catch2/catch.hpp>

#include <set>
#include <tuple>

#include "attnbench/types.hpp"
#include "harness/scenario.hpp"
#include "tests/harness/scenario_error_util.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {
const char* good = R"(
name: t
backends: [cpu.reference]
masks:
  - full
  - causal
seqlens: [64, 128]
shape: {batch: 1, heads_q: [4, 8], heads_kv: 4, head_dim: 16}
dtypes: [fp32]
passes: [fwd, bwd]
timing: {warmup: 0, min_iters: 2, max_iters: 3, min_time_s: 0, max_noise_pct: 50, timeout_s: 5}
)";

using test::expand_error;
}  // namespace

TEST_CASE("a good scenario parses with its defaults and overrides", "[scenario]") {
  const Scenario s = parse_scenario(good, "scen.yaml");
  CHECK(s.name == "t");
  CHECK(s.backends == std::vector<std::string>{"cpu.reference"});
  CHECK(s.strategies == std::vector<std::string>{"none"});
  CHECK(s.world_sizes == std::vector<int>{1});
  CHECK(s.masks.size() == 2);
  CHECK(s.heads_q == std::vector<std::int64_t>{4, 8});
  CHECK(s.timing.max_iters == 3);
  CHECK(s.check.enabled);
  const Scenario o = parse_scenario(good, "scen.yaml", {"timing.min_iters=3", "check.max_seqlen=64"});
  CHECK(o.timing.min_iters == 3);
  CHECK(o.check.max_seqlen == 64);
}

TEST_CASE("expansion is the product of every axis, shapes outside masks, backends innermost", "[scenario]") {
  const auto cases = expand(parse_scenario(good, "scen.yaml"));
  // 2 seqlens x 2 heads_q x 2 masks x 2 passes x 1 backend
  REQUIRE(cases.size() == 16);
  CHECK(cases[0].problem.mask->name() == "full");
  CHECK(cases[0].problem.shape.seqlen_q == 64);
  CHECK(cases[0].problem.pass == Pass::fwd);
  CHECK(cases[1].problem.pass == Pass::bwd);
  CHECK(cases[2].problem.mask->name() == "causal");  // same inputs, next mask
  CHECK(cases[2].problem.shape.heads_q == 4);
  CHECK(cases[4].problem.shape.heads_q == 8);
  CHECK(cases[15].problem.mask->name() == "causal");
  CHECK(cases[15].problem.shape.seqlen_q == 128);
  CHECK(cases[0].problem.mask == cases[4].problem.mask);  // one mask object per (Sq, Sk)
  CHECK(cases[0].problem.softmax_scale == Approx(0.25));
  for (std::size_t i = 0; i < cases.size(); ++i) CHECK(cases[i].index == i);
}

TEST_CASE("list-valued mask parameters and seqlens_k are sweep axes", "[scenario]") {
  const std::string text = R"(
backends: [cpu.*]
masks: [causal]
seqlens: [32, 64]
seqlens_k: [64, 96, 128]
)";
  const auto cases = expand(parse_scenario(text, "x.yaml"));
  std::size_t per_shape = 0;
  for (const auto& c : cases) per_shape += c.backend == "cpu.reference";
  CHECK(per_shape == 6);
  CHECK(cases.back().problem.shape.seqlen_k == 128);
}

TEST_CASE("a missing file is one clear error", "[scenario][errors]") {
  CHECK_THROWS_WITH(load_scenario("/nonexistent/scen.yaml"),
                    Contains("/nonexistent/scen.yaml") && Contains("cannot open"));
}

TEST_CASE("malformed YAML reports file and line", "[scenario][errors]") {
  const std::string e = expand_error("name: x\nbackends: [cpu.reference\nmasks: [full]\n");
  CHECK_THAT(e, Contains("scen.yaml:") && Contains("malformed YAML"));
}

TEST_CASE("an unknown backend lists the accepted names", "[scenario][errors]") {
  const std::string e = expand_error("backends: [gpu.magic]\nmasks: [full]\nseqlens: [8]\n");
  CHECK_THAT(e, Contains("scen.yaml:1") && Contains("backends") && Contains("gpu.magic") &&
                    Contains("cpu.reference"));
}

TEST_CASE("an unknown mask lists the accepted masks", "[scenario][errors]") {
  const std::string e = expand_error("backends: [cpu.reference]\nmasks: [diagonal]\nseqlens: [8]\n");
  CHECK_THAT(e, Contains("scen.yaml:2") && Contains("masks") && Contains("diagonal") && Contains("causal"));
}

TEST_CASE("impossible shapes are rejected before any case runs", "[scenario][errors]") {
  const std::string base = "backends: [cpu.reference]\nmasks: [full]\nseqlens: [8]\n";
  CHECK_THAT(expand_error(base + "shape: {heads_q: 6, heads_kv: 4}\n"),
             Contains("heads_q (6) must be a multiple of heads_kv (4)"));
  CHECK_THAT(expand_error(base + "shape: {head_dim: 0}\n"), Contains("shape.head_dim") && Contains(">= 1"));
  CHECK_THAT(expand_error(base + "shape: {head_dim: -8}\n"), Contains("shape.head_dim"));
}

TEST_CASE("unknown fields, dtypes and passes name the accepted values", "[scenario][errors]") {
  const std::string base = "backends: [cpu.reference]\nmasks: [full]\nseqlens: [8]\n";
  CHECK_THAT(expand_error(base + "colour: red\n"),
             Contains("colour") && Contains("accepted") && Contains("seqlens"));
  CHECK_THAT(expand_error(base + "dtypes: [fp8]\n"), Contains("fp8") && Contains("bf16"));
  CHECK_THAT(expand_error(base + "passes: [both]\n"), Contains("both") && Contains("fwd_bwd"));
  CHECK_THAT(expand_error(base + "timing: {min_iters: many}\n"), Contains("timing.min_iters"));
  CHECK_THAT(expand_error(base + "strategies: [spiral]\n"), Contains("spiral") && Contains("none"));
  CHECK_THAT(expand_error("backends: [cpu.reference]\nseqlens: [8]\nmasks: [{name: causal, windw: 3}]\n"),
             Contains("scen.yaml:3") && Contains("windw"));
  CHECK_THAT(expand_error(base, {"timing"}), Contains("--set timing"));
}

TEST_CASE("invalid strategy options are refused at expansion, naming file, field, value and accepted values",
          "[scenario][errors][options]") {
  const std::string base =
      "backends: [cpu.reference]\nmasks: [causal]\nseqlens: [64]\nshape: {heads_q: 4, heads_kv: 4}\n";
  // A value outside the code's own list (backends/cp kBalances).
  CHECK_THAT(expand_error(base + "world_sizes: [2]\nstrategies: [ring]\noptions: {balance: weird}\n"),
             Contains("scen.yaml") && Contains("options.balance") && Contains("'weird'") &&
                 Contains("accepted: tokens, area"));
  // An impossible Ulysses degree.
  CHECK_THAT(expand_error(base + "world_sizes: [2]\nstrategies: [usp]\noptions: {ulysses_degree: 0}\n"),
             Contains("scen.yaml") && Contains("options.ulysses_degree") && Contains("'0'") &&
                 Contains("integer >= 1"));
  // An option no strategy of the sweep takes: the accepted list is the union of theirs (StrategyInfo).
  CHECK_THAT(expand_error(base + "world_sizes: [2]\nstrategies: [ring]\noptions: {ulysses_degree: 2}\n"),
             Contains("scen.yaml") && Contains("options.ulysses_degree") &&
                 Contains("no strategy or backend of this sweep takes option ulysses_degree") &&
                 Contains("accepted: balance, chunks_per_rank"));
  // One options block serves a sweep over several strategies: usp takes ulysses_degree, ring ignores it.
  CHECK(expand_error(base + "world_sizes: [2]\nstrategies: [ring, usp]\noptions: {ulysses_degree: 2}\n")
            .empty());
  // Only one value of an option axis is bad: the whole sweep is refused.
  CHECK_THAT(
      expand_error(base +
                   "world_sizes: [2]\nstrategies: [ring_zigzag, usp]\noptions: {balance: [tokens, rows]}\n"),
      Contains("'rows'"));
  // Good options still expand; a degree that does not divide one world size is that case's
  // `unsupported` row, not bad input.
  CHECK(expand_error(
            base +
            "strategies: [usp]\nworld_sizes: [1, 2]\noptions: {ulysses_degree: 2, balance: [tokens, area]}\n")
            .empty());
}

TEST_CASE("glob matching", "[scenario]") {
  CHECK(glob_match("cpu.*", "cpu.flash"));
  CHECK(glob_match("*flash*", "cuda.flash"));
  CHECK(glob_match("cpu.?ath", "cpu.math"));
  CHECK_FALSE(glob_match("cpu.*", "cuda.math"));
  CHECK(glob_match("*", ""));
}

TEST_CASE("heads_k, heads_v and head_dim_v: defaults, sweep axes, ids and labels", "[scenario][kvdims]") {
  const std::string base = "backends: [cpu.reference]\nmasks: [causal]\nseqlens: [8]\n";
  // Unset: V follows K (heads_kv) and head_dim, as before; ids and labels unchanged.
  auto old = expand(parse_scenario(base + "shape: {heads_q: 4, heads_kv: 2, head_dim: 16}\n", "scen.yaml"));
  REQUIRE(old.size() == 1);
  CHECK(old[0].problem.shape.value_heads() == 2);
  CHECK(old[0].problem.shape.value_dim() == 16);
  CHECK(old[0].label() == "cpu.reference/causal/S=8/B1H4x2D16/fp32/fwd");
  CHECK(old[0].id() == "0000-cpu.reference-none-w1-causal-q8-k8-b1-h4x2-d16-fp32-fwd");
  // heads_k, heads_v and head_dim_v as lists: each a sweep axis.
  auto cases = expand(parse_scenario(
      base + "shape: {heads_q: 8, heads_k: [1, 2], heads_v: [4, 8], head_dim: 129, head_dim_v: [129, 64]}\n",
      "scen.yaml"));
  REQUIRE(cases.size() == 8);
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> seen;
  for (const auto& c : cases) {
    CHECK(c.problem.shape.head_dim == 129);
    seen.insert({c.problem.shape.heads_k(), c.problem.shape.value_heads(), c.problem.shape.value_dim()});
  }
  CHECK(seen.size() == 8);
  const auto& c = cases.back();
  CHECK(c.label() == "cpu.reference/causal/S=8/B1H8x2v8D129v64/fp32/fwd");
  // heads_kv with heads_v: heads_kv is the key heads.
  auto kv = expand(parse_scenario(base + "shape: {heads_q: 8, heads_kv: 2, heads_v: 4}\n", "scen.yaml"));
  CHECK(kv[0].problem.shape.heads_k() == 2);
  CHECK(kv[0].problem.shape.value_heads() == 4);
}

TEST_CASE("bad heads_k, heads_v and head_dim_v name the file, field and accepted values",
          "[scenario][errors][kvdims]") {
  const std::string base = "backends: [cpu.reference]\nmasks: [full]\nseqlens: [8]\n";
  CHECK_THAT(expand_error(base + "shape: {heads_q: 8, heads_v: 3}\n"),
             Contains("scen.yaml:4") && Contains("shape.heads_v") && Contains("accepted: 1, 2, 4, 8"));
  CHECK_THAT(expand_error(base + "shape: {heads_q: 8, heads_k: [2, 5]}\n"),
             Contains("shape.heads_k") && Contains("heads_q (8) must be a multiple of heads_k (5)"));
  CHECK_THAT(expand_error(base + "shape: {heads_v: 0}\n"), Contains("shape.heads_v") && Contains(">= 1"));
  CHECK_THAT(expand_error(base + "shape: {head_dim_v: 0}\n"),
             Contains("shape.head_dim_v") && Contains(">= 1"));
  CHECK_THAT(expand_error(base + "shape: {head_dim_v: wide}\n"), Contains("shape.head_dim_v"));
  CHECK_THAT(expand_error(base + "shape: {heads_kv: 2, heads_k: 2}\n"),
             Contains("shape.heads_k") && Contains("give heads_k or heads_kv, not both"));
}
