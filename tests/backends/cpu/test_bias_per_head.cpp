// per_head masks (groups of key heads) and additive bias (ALiBi, relpos): group parsing and head
// assignment, area and FLOPs over heads, the reference against the naive loop, cpu.math and cpu.flash
// (every ISA) against the reference forward and backward, and backends without bias saying why.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "attnbench/bias.hpp"
#include "backends/cpu/flash/flash_driver.hpp"
#include "flash_run.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "harness/scenario.hpp"
#include "kernel_cases.hpp"
#include "masks/per_head.hpp"
#include "naive_attention.hpp"

namespace attnbench::test {
namespace {

namespace flash = attnbench::cpu::flash;

MaskSpec duo(const std::string& groups) { return MaskSpec{"per_head", {{"groups", groups}}}; }

const char* kDuo = "[{mask: causal, fraction: 0.5}, {mask: {name: streaming, sink: 4, recent: 8}}]";

std::string error_of(const MaskSpec& spec) {
  try {
    per_head_groups(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

struct BiasLayout {
  std::int64_t batch, hq, hk, hv, sq, sk, d, dv;
};
constexpr BiasLayout kBiasLayouts[] = {
    {1, 4, 2, 2, 37, 37, 16, 16},  {2, 8, 4, 2, 20, 45, 8, 24},  {1, 6, 3, 6, 33, 33, 129, 64},
    {1, 2, 1, 1, 1, 70, 129, 129}, {2, 4, 4, 2, 65, 65, 32, 32},
};

// A case with `bias` and either causal or a per_head mask (causal / streaming halves of the key heads).
KernelCase bias_case(const BiasLayout& l, const BiasSpec& bias, bool per_head, Pass pass,
                     std::uint64_t seed) {
  KernelCase c =
      make_kernel_case("causal", {}, Shape{l.batch, l.hq, l.hk, l.sq, l.sk, l.d, l.hv, l.dv}, pass, seed);
  Problem& p = c.problem;
  if (per_head) {
    const PerHeadMasks m = build_per_head(duo(kDuo), l.sq, l.sk, l.hq, l.hk);
    p.mask = m.label;
    for (std::int64_t b = 0; b < l.batch; ++b)
      p.head_masks.insert(p.head_masks.end(), m.query_heads.begin(), m.query_heads.end());
  }
  p.bias = build_bias(bias, l.hq, l.sq, l.sk, seed);
  c.inputs = generate_inputs(p);
  return c;
}

const BiasSpec kBiases[] = {{"alibi", {}}, {"relpos", {{"max_distance", "6"}}}};

}  // namespace

TEST_CASE("per_head groups take key heads in order, rounded, the last the rest", "[perhead]") {
  const auto groups = per_head_groups(duo(kDuo));
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].mask.name == "causal");
  CHECK(groups[1].mask.name == "streaming");
  CHECK(groups[1].mask.params.at("sink") == "4");
  CHECK(per_head_counts(groups, 8) == std::vector<std::int64_t>{4, 4});
  CHECK(per_head_counts(groups, 3) == std::vector<std::int64_t>{2, 1});  // 1.5 rounds up
  CHECK(per_head_counts(groups, 1) == std::vector<std::int64_t>{1, 0});
  const auto thirds = per_head_groups(
      duo("[{mask: causal, fraction: 0.3}, {mask: full, fraction: 0.3}, {mask: {name: streaming}}]"));
  CHECK(per_head_counts(thirds, 4) == std::vector<std::int64_t>{1, 1, 2});
  CHECK(per_head_counts(thirds, 10) == std::vector<std::int64_t>{3, 3, 4});
  // Fractions summing to 1: the last group still takes what rounding left.
  const auto whole = per_head_groups(duo("[{mask: causal, fraction: 0.6}, {mask: full, fraction: 0.4}]"));
  CHECK(per_head_counts(whole, 5) == std::vector<std::int64_t>{3, 2});
}

TEST_CASE("every query head of a key head shares its group's mask", "[perhead]") {
  const PerHeadMasks m = build_per_head(duo(kDuo), 32, 32, 8, 4);
  REQUIRE(m.query_heads.size() == 8);
  for (int h = 0; h < 4; ++h) CHECK(m.query_heads[h]->name() == "causal");
  for (int h = 4; h < 8; ++h) CHECK(m.query_heads[h]->name() == "streaming");
  CHECK(m.label->name() == "per_head");
  CHECK(m.label->seqlen_q() == 32);
  const std::string params = m.label->params_json();
  CHECK(params.find("\"heads_k\":2") != std::string::npos);
  CHECK(params.find("\"sink\":4") != std::string::npos);
}

TEST_CASE("per_head area and FLOPs sum over heads", "[perhead]") {
  const PerHeadMasks m = build_per_head(duo(kDuo), 32, 32, 8, 4);
  Problem p;
  p.shape = Shape{2, 8, 4, 32, 32, 16, 0, 24};
  p.mask = m.label;
  for (int b = 0; b < 2; ++b)
    p.head_masks.insert(p.head_masks.end(), m.query_heads.begin(), m.query_heads.end());
  const double causal = 32 * 33 / 2, streaming = static_cast<double>(m.group_masks[1]->area());
  CHECK(streaming < causal);
  CHECK(p.pairs() == Approx(2 * (4 * causal + 4 * streaming)));
  CHECK(p.area() == static_cast<std::int64_t>(4 * causal + 4 * streaming));
  CHECK(p.density() == Approx((4 * causal + 4 * streaming) / (8 * 32 * 32)));
  CHECK(pass_flops(p) == Approx(2.0 * p.pairs() * (16 + 24)));
}

TEST_CASE("per_head groups refuse bad input with the accepted values", "[perhead]") {
  CHECK(error_of({"per_head", {}}).find("groups: is required") != std::string::npos);
  CHECK(error_of(duo("[{mask: causal, fraction: 0}]")).find("outside (0, 1]") != std::string::npos);
  CHECK(error_of(duo("[{mask: causal, fraction: 1.5}]")).find("outside (0, 1]") != std::string::npos);
  CHECK(error_of(duo("[{mask: causal, fraction: 0.7}, {mask: full, fraction: 0.6}]")).find("at most 1") !=
        std::string::npos);
  CHECK(error_of(duo("[{mask: causal}, {mask: full}]")).find("needs a 'fraction'") != std::string::npos);
  const std::string nested =
      error_of(duo("[{mask: {name: per_head, groups: []}, fraction: 0.5}, {mask: full}]"));
  CHECK(nested.find("per_head inside per_head") != std::string::npos);
  const std::string unknown = error_of(duo("[{mask: causl, fraction: 0.5}, {mask: full}]"));
  CHECK(unknown.find("unknown mask 'causl' (accepted: ") != std::string::npos);
  CHECK(unknown.find("streaming") != std::string::npos);
  CHECK(error_of(duo("[{mask: causal, share: 0.5}]")).find("accepted: mask, fraction") != std::string::npos);
  // A group's own parameters are checked when it is built.
  CHECK_THROWS_AS(build_per_head(duo("[{mask: {name: streaming, recnt: 3}}]"), 16, 16, 2, 2), InputError);
}

TEST_CASE("a per_head scenario entry becomes head masks, and bias a sweep axis",
          "[perhead][bias][scenario]") {
  const Scenario s = parse_scenario(R"(
name: t
backends: [cpu.flash]
masks:
  - {name: per_head, groups: [{mask: causal, fraction: 0.25}, {mask: {name: streaming, sink: 2, recent: 4}}]}
seqlens: [32]
shape: {batch: 2, heads_q: 8, heads_k: 4, head_dim: 16}
bias: [none, alibi, {name: relpos, max_distance: 8}]
)",
                                    "t.yaml");
  const auto cases = expand(s);
  REQUIRE(cases.size() == 3);
  for (const Case& c : cases) {
    const Problem& p = c.problem;
    CHECK(p.mask->name() == "per_head");
    CHECK(p.mask->params_json().find("\"heads_k\":1") != std::string::npos);
    CHECK(p.mask->params_json().find("\"heads_k\":3") != std::string::npos);
    REQUIRE(p.head_masks.size() == 16);
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t h = 0; h < 8; ++h)  // key head 0 (query heads 0, 1) is the causal group
        CHECK(p.mask_for(b, h).name() == (h < 2 ? "causal" : "streaming"));
  }
  CHECK(cases[0].problem.bias == nullptr);
  REQUIRE(cases[1].problem.bias != nullptr);
  CHECK(cases[1].problem.bias->label() == "alibi");
  REQUIRE(cases[2].problem.bias != nullptr);
  CHECK(cases[2].problem.bias->label() == "relpos{max_distance=8}");
  CHECK(cases[1].bias_index != cases[2].bias_index);
  CHECK(cases[2].label().find("/bias=relpos{max_distance=8}") != std::string::npos);
}

TEST_CASE("ALiBi slopes: the geometric sequence, interpolated when H is not a power of two", "[bias]") {
  const auto s8 = alibi_slopes(8);
  REQUIRE(s8.size() == 8);
  for (int h = 0; h < 8; ++h) CHECK(s8[h] == Approx(std::pow(2.0, -(h + 1))));
  const auto s12 = alibi_slopes(12);
  REQUIRE(s12.size() == 12);
  for (int h = 0; h < 8; ++h) CHECK(s12[h] == Approx(s8[h]));
  for (int i = 0; i < 4; ++i) CHECK(s12[8 + i] == Approx(std::pow(2.0, -0.5 - i)));  // 2^(-8(2i+1)/16)
  // Bottom-right alignment: the diagonal of the last query carries no bias; earlier keys less.
  const BiasPtr b = Bias::alibi(8, 4, 10);
  CHECK(b->value(0, 3, 9) == 0.0);
  CHECK(b->value(0, 3, 7) == Approx(-2 * 0.5));
  CHECK(b->value(7, 0, 0) == Approx(-6 * std::pow(2.0, -8)));
  // Keys after the aligned query (bidirectional masks) are penalised alike: -slope·|q' - k|.
  CHECK(b->value(0, 0, 9) == Approx(-3 * 0.5));
  CHECK(b->value(0, 0, 6) == 0.0);
}

TEST_CASE("relpos: a seeded per-head table over the clipped distance", "[bias]") {
  const BiasPtr a = Bias::relpos(4, 50, 50, 5, 7), b = Bias::relpos(4, 50, 50, 5, 7),
                c = Bias::relpos(4, 50, 50, 5, 8);
  CHECK(a->table() == b->table());
  CHECK(a->table() != c->table());
  CHECK(a->table().size() == 4 * 11);
  CHECK(a->value(1, 20, 40) == a->value(1, 20, 25));  // both clip to +5
  CHECK(a->value(1, 20, 0) == a->value(1, 30, 10));   // both at -20 -> -5
  CHECK(a->value(1, 20, 21) != a->value(2, 20, 21));
  for (double x : a->table()) CHECK((x >= -1 && x < 1));
  CHECK(a->label() == "relpos{max_distance=5}");
  CHECK_THROWS_AS(build_bias({"relpos", {}}, 4, 8, 8, 0), InputError);
  CHECK_THROWS_AS(build_bias({"relpos", {{"max_distance", "0"}}}, 4, 8, 8, 0), InputError);
  CHECK_THROWS_AS(build_bias({"alibi", {{"max_distance", "3"}}}, 4, 8, 8, 0), InputError);
  CHECK_THROWS_WITH(build_bias({"rope", {}}, 4, 8, 8, 0),
                    "unknown bias 'rope' (accepted: none, alibi, relpos)");
  CHECK(build_bias({"none", {}}, 4, 8, 8, 0) == nullptr);
}

TEST_CASE("reference with a bias equals the naive loop", "[bias][reference]") {
  std::uint64_t seed = 11;
  for (const BiasLayout& l : kBiasLayouts)
    for (const BiasSpec& bias : kBiases)
      for (bool per_head : {false, true}) {
        const KernelCase c = bias_case(l, bias, per_head, Pass::fwd_bwd, seed++);
        require_outputs_close(reference_outputs(c), naive(c), c, "reference vs naive, " + bias.name);
      }
}

TEST_CASE("the bias changes the output", "[bias]") {
  const KernelCase with = bias_case(kBiasLayouts[0], kBiases[0], false, Pass::fwd, 5);
  KernelCase without = with;
  without.problem.bias = nullptr;
  const CheckResult r =
      compare_outputs(reference_outputs(with), reference_outputs(without), Pass::fwd, 1e-3, 1e-3);
  CHECK_FALSE(r.passed);
}

TEST_CASE("cpu.math and cpu.flash equal the reference with a bias and per_head masks",
          "[bias][perhead][cpu.flash][cpu.math]") {
  const Pass passes[] = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  std::uint64_t seed = 100;
  int n = 0;
  for (const BiasLayout& l : kBiasLayouts)
    for (const BiasSpec& bias : kBiases)
      for (bool per_head : {false, true}) {
        const KernelCase c = bias_case(l, bias, per_head, passes[n++ % 3], seed++);
        const Outputs want = reference_outputs(c);
        for (const char* backend : {"cpu.math", "cpu.flash"}) {
          MemoryTracker mem;
          require_outputs_close(run_backend(backend, c, mem, 2), want, c,
                                std::string(backend) + ", " + bias.name);
          REQUIRE(mem.live() == 0);
        }
      }
}

TEST_CASE("cpu.flash with a bias, every ISA variant", "[bias][cpu.flash]") {
  for (std::string_view isa : flash::available_isas()) {
    std::uint64_t seed = 300;
    for (const BiasLayout& l : kBiasLayouts)
      for (const BiasSpec& bias : kBiases) {
        const KernelCase c = bias_case(l, bias, true, Pass::fwd_bwd, seed++);
        require_outputs_close(run_flash(flash::kernels_by_name(isa), c, 2), reference_outputs(c), c,
                              std::string(isa));
      }
  }
}

TEST_CASE("backends and CP strategies without bias say why", "[bias]") {
  BackendInfo info = plain_backend_info("some.backend");
  Problem p = small_causal_problem();
  CHECK(check_info(info, p).ok);
  p.bias = Bias::alibi(2, 16, 16);
  const Support s = check_info(info, p);
  REQUIRE_FALSE(s.ok);
  REQUIRE_FALSE(s.is_invalid());
  CHECK(s.reason == "some.backend: additive bias (alibi) not supported");
  info.bias = true;
  CHECK(check_info(info, p).ok);
  require_strategies_refuse(p, "additive bias not supported");
}

}  // namespace attnbench::test
