// The approximate backends against exact attention where they are exact or nearly so, and their capability
// answers (HyperAttention, BASED, Performer; DESIGN.md "Dynamic and approximate attention").
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "attnbench/registry.hpp"
#include "harness/check.hpp"
#include "kernel_cases.hpp"

namespace attnbench::test {

namespace {

// ||O - O_exact|| / ||O_exact|| of `backend` with `options` on a case.
double o_error(const std::string& backend, KernelCase c, const std::map<std::string, std::string>& options) {
  c.problem.options = options;
  MemoryTracker mem;
  const Outputs got = run_backend(backend, c, mem);
  REQUIRE(mem.live() == 0);
  return compare_output_o(got, reference_outputs(c), 1.0).rel_l2_err;
}

// Causal and full, square and Sq != Sk (bottom-right causal), GQA and V heads/dims of their own.
std::vector<KernelCase> exact_regime_cases() {
  std::vector<KernelCase> cases;
  const Shape square{.batch = 2, .heads_q = 4, .heads_kv = 2, .seqlen_q = 97, .seqlen_k = 97, .head_dim = 16};
  const Shape longer_k{.batch = 1,
                       .heads_q = 2,
                       .heads_kv = 1,
                       .seqlen_q = 40,
                       .seqlen_k = 75,
                       .head_dim = 8,
                       .heads_v = 2,
                       .head_dim_v = 12};
  const Shape longer_q{
      .batch = 1, .heads_q = 2, .heads_kv = 2, .seqlen_q = 60, .seqlen_k = 33, .head_dim = 8};
  for (const char* mask : {"causal", "full"})
    for (const Shape& s : {square, longer_k, longer_q})
      cases.push_back(make_kernel_case(mask, {}, s, Pass::fwd, 5));
  return cases;
}

}  // namespace

TEST_CASE("cpu.hyper with one block covering every key and no sampling equals exact attention", "[approx]") {
  for (const auto& c : exact_regime_cases()) {
    INFO(describe(c.problem));
    CHECK(o_error("cpu.hyper", c, {{"block", "128"}, {"samples", "0"}}) < 1e-5);
    // Samples that cover every key outside the blocks are taken whole: exact again, with small blocks.
    CHECK(o_error("cpu.hyper", c, {{"block", "8"}, {"samples", "128"}}) < 1e-5);
  }
}

TEST_CASE("approximate backends in an exact regime are held to the fp32 tolerance, elsewhere to their own",
          "[approx]") {
  const auto tolerance = [](const char* backend, KernelCase c, const std::map<std::string, std::string>& o) {
    c.problem.options = o;
    const Support s = Registry::instance().find_backend(backend)->supports(c.problem);
    REQUIRE(s.ok);
    return s.tolerance_fwd;
  };
  for (const auto& c : exact_regime_cases()) {
    INFO(describe(c.problem));
    const std::int64_t longest = std::max(c.problem.shape.seqlen_q, c.problem.shape.seqlen_k);
    const std::string at = std::to_string(longest), below = std::to_string(longest - 1);
    CHECK(tolerance("cpu.hyper", c, {{"block", at}, {"samples", "0"}}) == 1e-5);
    CHECK(tolerance("cpu.hyper", c,
                    {{"block", "8"}, {"samples", std::to_string(c.problem.shape.seqlen_k)}}) == 1e-5);
    CHECK(tolerance("cpu.hyper", c, {{"block", below}, {"samples", "0"}}) == 0);
    CHECK(tolerance("cpu.linear", c, {{"window", at}}) == 1e-5);
    CHECK(tolerance("cpu.linear", c, {{"window", below}}) == 0);
    CHECK(tolerance("cpu.performer", c, {{"features", "4096"}}) == 0);  // never exact
    // The regime the capability calls exact is exact: the error stays inside the tolerance it sets.
    CHECK(o_error("cpu.hyper", c, {{"block", at}, {"samples", "0"}}) < 1e-5);
    CHECK(o_error("cpu.linear", c, {{"window", at}}) < 1e-5);
  }
}

TEST_CASE("cpu.hyper with small blocks and few samples approximates, and more samples help", "[approx]") {
  const Shape s{.batch = 1, .heads_q = 2, .heads_kv = 2, .seqlen_q = 512, .seqlen_k = 512, .head_dim = 16};
  for (const char* mask : {"causal", "full"}) {
    double few = 0, many = 0;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const KernelCase c = make_kernel_case(mask, {}, s, Pass::fwd, seed);
      few += o_error("cpu.hyper", c, {{"block", "32"}, {"samples", "16"}});
      many += o_error("cpu.hyper", c, {{"block", "32"}, {"samples", "256"}});
    }
    INFO(mask << " few " << few / 3 << " many " << many / 3);
    CHECK(few > 1e-3);  // it is an approximation here
    CHECK(many < few);
  }
}

TEST_CASE("cpu.linear with a window covering every key equals exact attention", "[approx]") {
  for (const auto& c : exact_regime_cases()) {
    INFO(describe(c.problem));
    CHECK(o_error("cpu.linear", c, {{"window", "200"}}) < 1e-5);
  }
}

TEST_CASE("cpu.linear without a window is the Taylor kernel: near exact for small scores", "[approx]") {
  for (auto c : exact_regime_cases()) {
    INFO(describe(c.problem));
    // scores ~ N(0, 0.02^2 * D): exp(s) - (1 + s + s^2/2) is O(s^3); feature_dim = head_dim: no projection.
    c.problem.softmax_scale = 0.02;
    CHECK(o_error("cpu.linear", c, {{"window", "0"}, {"feature_dim", "16"}}) < 1e-3);
    c.problem.softmax_scale = 0.5;
    CHECK(o_error("cpu.linear", c, {{"window", "0"}, {"feature_dim", "16"}}) > 1e-3);
  }
}

TEST_CASE("cpu.performer's error falls as the number of random features grows", "[approx]") {
  const Shape s{.batch = 1, .heads_q = 2, .heads_kv = 2, .seqlen_q = 128, .seqlen_k = 128, .head_dim = 16};
  for (const char* mask : {"causal", "full"}) {
    std::vector<double> mean;
    for (const char* features : {"64", "256", "1024"}) {
      double sum = 0;
      for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        KernelCase c = make_kernel_case(mask, {}, s, Pass::fwd, seed);
        c.problem.softmax_scale = 0.05;  // |q||k| moderate: the regime where FAVOR+ converges visibly
        sum += o_error("cpu.performer", c, {{"features", features}});
      }
      mean.push_back(sum / 4);
    }
    INFO(mask << " 64: " << mean[0] << " 256: " << mean[1] << " 1024: " << mean[2]);
    CHECK(mean[0] > mean[1]);
    CHECK(mean[1] > mean[2]);
    CHECK(mean[2] < 0.1);
  }
}

TEST_CASE("approximate backends: forward on full and causal only, with reasons, and bad options are invalid",
          "[approx]") {
  const Shape s{.batch = 1, .heads_q = 2, .heads_kv = 2, .seqlen_q = 64, .seqlen_k = 64, .head_dim = 16};
  for (const char* name : {"cpu.hyper", "cpu.linear", "cpu.performer"}) {
    const Backend* b = Registry::instance().find_backend(name);
    REQUIRE(b != nullptr);
    CHECK(b->info().approximate);
    CHECK(b->info().tolerance_fwd > 0);
    CHECK(b->supports(make_kernel_case("causal", {}, s, Pass::fwd, 1).problem).ok);
    const Support window =
        b->supports(make_kernel_case("sliding_window", {{"window", "8"}}, s, Pass::fwd, 1).problem);
    CHECK_FALSE(window.ok);
    CHECK_FALSE(window.is_invalid());
    CHECK_THAT(window.reason, Catch::Matchers::Contains("full and causal"));
    const Support bwd = b->supports(make_kernel_case("causal", {}, s, Pass::bwd, 1).problem);
    CHECK_FALSE(bwd.ok);
    CHECK_THAT(bwd.reason, Catch::Matchers::Contains("forward only"));
    KernelCase bad = make_kernel_case("causal", {}, s, Pass::fwd, 1);
    for (const auto& key : b->info().parameters) {
      bad.problem.options = {{key, "-3x"}};
      const Support a = b->supports(bad.problem);
      CHECK(a.is_invalid());
      CHECK_THAT(a.reason, Catch::Matchers::Contains("options." + key) &&
                               Catch::Matchers::Contains("'-3x'") &&
                               Catch::Matchers::Contains("accepted: an integer from"));
    }
  }
}

}  // namespace attnbench::test
