// cuda.flash's tile algorithm on the CPU: the kernels' tile walks (schedules, bits in the orientation the
// kernels read them, online softmax, LSE recompute) give the same O, LSE, dQ, dK, dV as direct attention.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cuda/flash/bitmask.hpp"
#include "backends/cuda/flash/schedule.hpp"
#include "backends/cuda/flash/softmax.cuh"
#include "backends/cuda/flash/traits.hpp"
#include "tests/cuda_flash/random_masks.hpp"

using namespace attnbench;
using namespace attnbench::cuda::flash;

namespace {

constexpr int D = 8;  // head dim of the test (the tile walk does not depend on it)

struct Tensors {
  std::int64_t sq, sk;
  std::vector<float> q, k, v, dout;  // [S][D], one head
};

// Forward exactly as flash_forward_kernel walks it: per query tile, the listed key
// tiles in order, -inf for clear bits, begin_tile/prob per row, finalize at the end.
void tile_forward(const TileSchedule& s, const Tensors& t, float scale, std::vector<float>& o,
                  std::vector<float>& lse) {
  const float scale_log2 = scale * kLog2e;
  o.assign(t.sq * D, 0.0f);
  lse.assign(t.sq, 0.0f);
  for (int qt = 0; qt < s.q_tiles; ++qt)
    for (int i = 0; i < s.block_q; ++i) {
      const std::int64_t q = qt * std::int64_t{s.block_q} + i;
      RowState st;
      float acc[D] = {};
      for (auto e = s.begin[qt]; e < s.begin[qt + 1]; ++e) {
        const std::int64_t k0 = s.tiles[e] * std::int64_t{s.block_k};
        std::vector<float> sc(s.block_k);
        float mx = -INFINITY;
        for (int j = 0; j < s.block_k; ++j) {
          const std::int64_t k = k0 + j;
          float x = 0.0f;  // zero-filled padding rows and columns, as cp.async leaves them
          if (q < t.sq && k < t.sk)
            for (int d = 0; d < D; ++d) x += t.q[q * D + d] * t.k[k * D + d];
          if (s.mask_slot[e] >= 0 &&
              !tile_bit(s.bits.data() + s.mask_slot[e] * s.words_per_tile(), s.block_k, i, j))
            x = -INFINITY;
          sc[j] = x;
          mx = std::fmax(mx, x);
        }
        const float alpha = begin_tile(st, mx, scale_log2);
        const float base = exp_base(st.m);
        for (float& a : acc) a *= alpha;
        for (int j = 0; j < s.block_k; ++j) {
          const float p = prob(sc[j], scale_log2, base);
          st.l += p;
          const std::int64_t k = k0 + j;
          if (k < t.sk)
            for (int d = 0; d < D; ++d) acc[d] += p * t.v[k * D + d];
        }
      }
      if (q >= t.sq) continue;
      for (int d = 0; d < D; ++d) o[q * D + d] = acc[d] * output_scale(st.l);
      lse[q] = finalize_lse(st);
    }
}

// Backward as flash_backward_kernel walks it: per key tile, the key-major list of
// query tiles, key-major bits, P from the LSE, dS = P (dP - delta) * scale.
void tile_backward(const TileSchedule& s, const Tensors& t, float scale, const std::vector<float>& o,
                   const std::vector<float>& lse, std::vector<float>& dq, std::vector<float>& dk,
                   std::vector<float>& dv) {
  const float scale_log2 = scale * kLog2e;
  std::vector<float> delta(t.sq, 0.0f);
  for (std::int64_t q = 0; q < t.sq; ++q)
    for (int d = 0; d < D; ++d) delta[q] += t.dout[q * D + d] * o[q * D + d];
  dq.assign(t.sq * D, 0.0f);
  dk.assign(t.sk * D, 0.0f);
  dv.assign(t.sk * D, 0.0f);
  for (int kt = 0; kt < s.k_tiles; ++kt)
    for (auto e = s.begin[kt]; e < s.begin[kt + 1]; ++e) {
      const std::int64_t q0 = s.tiles[e] * std::int64_t{s.block_q};
      for (int jk = 0; jk < s.block_k; ++jk) {
        const std::int64_t k = kt * std::int64_t{s.block_k} + jk;
        for (int iq = 0; iq < s.block_q; ++iq) {
          const std::int64_t q = q0 + iq;
          const bool allowed =
              s.mask_slot[e] < 0 ||
              tile_bit(s.bits.data() + s.mask_slot[e] * s.words_per_tile(), s.block_q, jk, iq);
          if (!allowed) continue;
          REQUIRE(q < t.sq);  // padding is never allowed
          REQUIRE(k < t.sk);
          float x = 0.0f;
          for (int d = 0; d < D; ++d) x += t.q[q * D + d] * t.k[k * D + d];
          const float p = fast_exp2(std::fma(x, scale_log2, -backward_lse_log2(lse[q])));
          float dp = 0.0f;
          for (int d = 0; d < D; ++d) dp += t.dout[q * D + d] * t.v[k * D + d];
          const float ds = p * (dp - delta[q]) * scale;
          for (int d = 0; d < D; ++d) {
            dv[k * D + d] += p * t.dout[q * D + d];
            dk[k * D + d] += ds * t.q[q * D + d];
            dq[q * D + d] += ds * t.k[k * D + d];
          }
        }
      }
    }
}

// Direct attention in double from the dense predicate.
void direct(const Mask& m, const Tensors& t, double scale, std::vector<double>& o, std::vector<double>& lse,
            std::vector<double>& dq, std::vector<double>& dk, std::vector<double>& dv) {
  o.assign(t.sq * D, 0.0);
  lse.assign(t.sq, -INFINITY);
  dq.assign(t.sq * D, 0.0);
  dk.assign(t.sk * D, 0.0);
  dv.assign(t.sk * D, 0.0);
  for (std::int64_t q = 0; q < t.sq; ++q) {
    std::vector<double> sc(t.sk, -INFINITY);
    double mx = -INFINITY;
    for (std::int64_t k = 0; k < t.sk; ++k) {
      if (!m.allowed(q, k)) continue;
      double x = 0.0;
      for (int d = 0; d < D; ++d) x += double(t.q[q * D + d]) * t.k[k * D + d];
      sc[k] = x * scale;
      mx = std::max(mx, sc[k]);
    }
    if (mx == -INFINITY) continue;
    double sum = 0.0;
    for (std::int64_t k = 0; k < t.sk; ++k) sum += std::exp(sc[k] - mx);
    lse[q] = mx + std::log(sum);
    std::vector<double> p(t.sk);
    for (std::int64_t k = 0; k < t.sk; ++k) {
      p[k] = std::exp(sc[k] - lse[q]);
      for (int d = 0; d < D; ++d) o[q * D + d] += p[k] * t.v[k * D + d];
    }
    double delta = 0.0;
    for (int d = 0; d < D; ++d) delta += double(t.dout[q * D + d]) * o[q * D + d];
    for (std::int64_t k = 0; k < t.sk; ++k) {
      if (p[k] == 0.0) continue;
      double dp = 0.0;
      for (int d = 0; d < D; ++d) dp += double(t.dout[q * D + d]) * t.v[k * D + d];
      const double ds = p[k] * (dp - delta) * scale;
      for (int d = 0; d < D; ++d) {
        dv[k * D + d] += p[k] * t.dout[q * D + d];
        dk[k * D + d] += ds * t.q[q * D + d];
        dq[q * D + d] += ds * t.k[k * D + d];
      }
    }
  }
}

template <class A, class B>
void require_close(const char* what, const A& got, const B& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO(what << "[" << i << "]");
    if (std::isinf(want[i])) {
      REQUIRE(got[i] == want[i]);
    } else {
      REQUIRE(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
    }
  }
}

}  // namespace

TEST_CASE("the kernels' tile walks equal direct attention on random masks, forward and backward",
          "[cuda_flash][tiles]") {
  std::mt19937_64 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 12; ++trial) {
    Tensors t;
    t.sq = 1 + static_cast<std::int64_t>(rng() % 260);
    t.sk = 1 + static_cast<std::int64_t>(rng() % 260);
    const MaskPtr m = trial == 0 ? test::mask_from_slices(t.sq, t.sk, {{0, t.sq, 0, t.sk, SliceType::causal}})
                                 : test::random_mask(rng, t.sq, t.sk);
    for (auto* x : {&t.q, &t.dout}) x->resize(t.sq * D);
    for (auto* x : {&t.k, &t.v}) x->resize(t.sk * D);
    for (auto* x : {&t.q, &t.k, &t.v, &t.dout})
      for (float& y : *x) y = normal(rng);
    const float scale = 1.0f / std::sqrt(float(D));
    INFO("trial " << trial << " sq=" << t.sq << " sk=" << t.sk);

    std::vector<float> o, lse, dq, dk, dv;
    tile_forward(build_query_major_schedule(*m, ForwardTile::block_q, ForwardTile::block_k), t, scale, o,
                 lse);
    tile_backward(build_key_major_schedule(*m, BackwardTile::block_q, BackwardTile::block_k), t, scale, o,
                  lse, dq, dk, dv);
    std::vector<double> ro, rlse, rdq, rdk, rdv;
    direct(*m, t, scale, ro, rlse, rdq, rdk, rdv);
    require_close("o", o, ro, 1e-4);
    require_close("lse", lse, rlse, 1e-4);
    require_close("dq", dq, rdq, 1e-3);
    require_close("dk", dk, rdk, 1e-3);
    require_close("dv", dv, rdv, 1e-3);
  }
}
