// cuda.flash online softmax: tile-by-tile updates equal a direct softmax; LSE and merge rules of DESIGN.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/cuda/flash/softmax.cuh"

using namespace attnbench::cuda::flash;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One query row over n keys split in tiles of `tile`, exactly as the forward kernel
// does it (begin_tile → prob → rescale of the accumulator), with value dim dv.
struct OnlineResult {
  std::vector<float> o;
  float lse;
};

OnlineResult online_row(const std::vector<float>& s, const std::vector<float>& v, int dv, int tile,
                        float scale) {
  const int n = static_cast<int>(s.size());
  const float scale_log2 = scale * kLog2e;
  RowState st;
  std::vector<float> acc(dv, 0.0f);
  for (int t0 = 0; t0 < n; t0 += tile) {
    const int t1 = std::min(n, t0 + tile);
    float mx = -INFINITY;
    for (int k = t0; k < t1; ++k) mx = std::fmax(mx, s[k]);
    const float alpha = begin_tile(st, mx, scale_log2);
    const float base = exp_base(st.m);
    for (auto& a : acc) a *= alpha;
    for (int k = t0; k < t1; ++k) {
      const float p = prob(s[k], scale_log2, base);
      st.l += p;
      for (int d = 0; d < dv; ++d) acc[d] += p * v[k * dv + d];
    }
  }
  const float inv = output_scale(st.l);
  for (auto& a : acc) a *= inv;
  return {acc, finalize_lse(st)};
}

// Direct softmax in double over the allowed (finite) scores.
void direct_row(const std::vector<float>& s, const std::vector<float>& v, int dv, double scale,
                std::vector<double>& o, double& lse) {
  double mx = -kInf;
  for (float x : s) mx = std::max(mx, double(x) * scale);
  o.assign(dv, 0.0);
  if (mx == -kInf) {
    lse = -kInf;
    return;
  }
  double sum = 0.0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const double p = std::exp(double(s[k]) * scale - mx);
    sum += p;
    for (int d = 0; d < dv; ++d) o[d] += p * v[k * dv + d];
  }
  for (auto& x : o) x /= sum;
  lse = mx + std::log(sum);
}

}  // namespace

TEST_CASE("online softmax over random score tiles equals a direct softmax", "[cuda_flash][softmax]") {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300), dv = 8, tile = trial % 3 == 0 ? 16 : 64;
    const float scale = 0.125f;
    std::vector<float> s(n), v(n * dv);
    for (auto& x : v) x = normal(rng);
    // Masked keys are -inf, as the kernel writes them; some rows lose whole tiles,
    // some start with masked tiles (the -inf running max must not produce NaN).
    const int pattern = trial % 4;
    for (int k = 0; k < n; ++k) {
      s[k] = normal(rng) * (trial % 5 == 0 ? 20.0f : 1.0f);
      const bool masked = (pattern == 1 && rng() % 2 == 0) || (pattern == 2 && k < n / 2) ||
                          (pattern == 3 && k / tile % 2 == 0);
      if (masked) s[k] = -INFINITY;
    }
    const OnlineResult got = online_row(s, v, dv, tile, scale);
    std::vector<double> want;
    double want_lse = 0.0;
    direct_row(s, v, dv, scale, want, want_lse);
    INFO("trial " << trial << " n=" << n);
    if (want_lse == -kInf) {
      CHECK(got.lse == -INFINITY);
    } else {
      CHECK(got.lse == Approx(want_lse).epsilon(1e-5).margin(1e-5));
    }
    for (int d = 0; d < dv; ++d) {
      REQUIRE(std::isfinite(got.o[d]));
      CHECK(got.o[d] == Approx(want[d]).epsilon(1e-4).margin(1e-4));
    }
  }
}

TEST_CASE("a fully masked row gives O = 0 and LSE = -inf", "[cuda_flash][softmax]") {
  const std::vector<float> s(130, -INFINITY), v(130 * 4, 1.0f);
  const OnlineResult r = online_row(s, v, 4, 64, 0.1f);
  CHECK(r.lse == -INFINITY);
  for (float x : r.o) CHECK(x == 0.0f);
}

TEST_CASE("backward probabilities from the LSE reproduce the softmax, -inf rows give exact zeros",
          "[cuda_flash][softmax]") {
  const std::vector<float> s = {0.5f, -1.0f, 3.0f, 2.0f};
  const float scale = 0.7f;
  double sum = 0.0;
  for (float x : s) sum += std::exp(double(x) * scale);
  const float lse = static_cast<float>(std::log(sum));
  double total = 0.0;
  for (float x : s) {
    const float p = fast_exp2(std::fma(x, scale * kLog2e, -backward_lse_log2(lse)));
    CHECK(p == Approx(std::exp(double(x) * scale) / sum).epsilon(1e-5));
    total += p;
  }
  CHECK(total == Approx(1.0).epsilon(1e-5));
  CHECK(backward_lse_log2(-INFINITY) == INFINITY);
  CHECK(fast_exp2(std::fma(3.0f, scale * kLog2e, -backward_lse_log2(-INFINITY))) == 0.0f);
}

TEST_CASE("LSE merge: union of two key sets, empty parts contribute nothing", "[cuda_flash][softmax]") {
  // Two halves of a row: merged LSE and weights equal the whole row's.
  const std::vector<double> a = {0.3, 1.2, -0.5}, b = {2.0, -3.0};
  auto lse_of = [](const std::vector<double>& x) {
    double s = 0.0;
    for (double v : x) s += std::exp(v);
    return std::log(s);
  };
  const float la = static_cast<float>(lse_of(a)), lb = static_cast<float>(lse_of(b));
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  const float merged = merge_lse(la, lb);
  CHECK(merged == Approx(lse_of(all)).epsilon(1e-6));
  CHECK(merge_weight(la, merged) + merge_weight(lb, merged) == Approx(1.0).epsilon(1e-6));
  CHECK(merge_lse(la, -INFINITY) == la);
  CHECK(merge_lse(-INFINITY, -INFINITY) == -INFINITY);
  CHECK(merge_weight(-INFINITY, merged) == 0.0f);
  CHECK(merge_weight(-INFINITY, -INFINITY) == 0.0f);
}
