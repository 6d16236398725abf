// cpu.reference, the oracle: a hand-computed case, gradients against finite differences, fully masked rows.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "backends/cpu/reference/reference.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {
Problem make(std::int64_t sq, std::int64_t sk, std::int64_t hq, std::int64_t hkv, std::int64_t d,
             const std::string& mask) {
  Problem p;
  p.shape = {1, hq, hkv, sq, sk, d};
  p.mask = build_mask({mask, {}}, sq, sk);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(d));
  return p;
}

std::vector<float> randn(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (auto& x : v) x = dist(g);
  return v;
}
}  // namespace

TEST_CASE("reference forward matches a hand-computed 2x2 causal case", "[reference]") {
  // D = 1, scale = 1: q = [1, 2], k = [0, 1], v = [10, 20].
  Problem p = make(2, 2, 1, 1, 1, "causal");
  p.softmax_scale = 1.0;
  const float q[] = {1, 2}, k[] = {0, 1}, v[] = {10, 20};
  double o[2], lse[2];
  cpu::reference_forward(p, q, k, v, o, lse);
  // Row 0 sees key 0 only: o = 10, lse = 0 (score 0).
  CHECK(o[0] == Approx(10.0));
  CHECK(lse[0] == Approx(0.0).margin(1e-15));
  // Row 1: scores 0 and 2 → weights 1/(1+e^2), e^2/(1+e^2).
  const double e2 = std::exp(2.0);
  CHECK(o[1] == Approx((10.0 + 20.0 * e2) / (1.0 + e2)));
  CHECK(lse[1] == Approx(std::log(1.0 + e2)));
}

TEST_CASE("reference gradients match central finite differences", "[reference]") {
  // GQA (4 query heads on 2 kv heads), Sq != Sk, causal: loss = sum(O ∘ dO).
  Problem p = make(5, 7, 4, 2, 8, "causal");
  const auto nq = p.shape.q_elems(), nk = p.shape.kv_elems();
  std::vector<float> q = randn(nq, 1), k = randn(nk, 2), v = randn(nk, 3), dout = randn(nq, 4);
  std::vector<double> o(nq), lse(p.shape.lse_elems()), dq(nq), dk(nk), dv(nk);
  cpu::reference_forward(p, q.data(), k.data(), v.data(), o.data(), lse.data());
  cpu::reference_backward(p, q.data(), k.data(), v.data(), o.data(), lse.data(), dout.data(), dq.data(),
                          dk.data(), dv.data());
  auto loss = [&](const std::vector<float>& qq, const std::vector<float>& kk, const std::vector<float>& vv) {
    std::vector<double> oo(nq), ll(p.shape.lse_elems());
    cpu::reference_forward(p, qq.data(), kk.data(), vv.data(), oo.data(), ll.data());
    double s = 0;
    for (std::int64_t i = 0; i < nq; ++i) s += oo[i] * dout[i];
    return s;
  };
  const float h = 1e-2f;
  auto fd_check = [&](std::vector<float>& x, const std::vector<double>& grad, int which) {
    for (std::size_t i = 0; i < x.size(); i += 7) {
      const float keep = x[i];
      x[i] = keep + h;
      const double up = which == 0 ? loss(x, k, v) : which == 1 ? loss(q, x, v) : loss(q, k, x);
      x[i] = keep - h;
      const double down = which == 0 ? loss(x, k, v) : which == 1 ? loss(q, x, v) : loss(q, k, x);
      x[i] = keep;
      CHECK(grad[i] == Approx((up - down) / (2 * h)).margin(2e-4).epsilon(1e-3));
    }
  };
  fd_check(q, dq, 0);
  fd_check(k, dk, 1);
  fd_check(v, dv, 2);
}

TEST_CASE("a row with no allowed key gives O = 0, LSE = -inf and zero gradients", "[reference]") {
  // Causal with Sq > Sk: bottom-right alignment leaves the first Sq - Sk rows empty.
  Problem p = make(4, 2, 1, 1, 4, "causal");
  std::vector<float> q = randn(16, 5), k = randn(8, 6), v = randn(8, 7), dout = randn(16, 8);
  std::vector<double> o(16), lse(4), dq(16), dk(8), dv(8);
  cpu::reference_forward(p, q.data(), k.data(), v.data(), o.data(), lse.data());
  cpu::reference_backward(p, q.data(), k.data(), v.data(), o.data(), lse.data(), dout.data(), dq.data(),
                          dk.data(), dv.data());
  CHECK(std::isinf(lse[0]));
  CHECK(lse[0] < 0);
  CHECK(std::isinf(lse[1]));
  CHECK(std::isfinite(lse[2]));
  for (int d = 0; d < 4; ++d) {
    CHECK(o[d] == 0.0);
    CHECK(dq[d] == 0.0);
    CHECK(o[4 + d] == 0.0);
  }
}

TEST_CASE("the chunk kernel on sub-rectangles merges to the full result", "[reference]") {
  // Two key halves attended separately, merged by LSE, equal the whole forward.
  Problem p = make(6, 8, 2, 1, 4, "causal");
  const auto nq = p.shape.q_elems();
  std::vector<float> q = randn(nq, 9), k = randn(p.shape.kv_elems(), 10), v = randn(p.shape.kv_elems(), 11);
  std::vector<double> o(nq), lse(p.shape.lse_elems());
  cpu::reference_forward(p, q.data(), k.data(), v.data(), o.data(), lse.data());

  cpu::ReferenceChunkKernel kernel;
  std::vector<float> o1(nq), o2(nq), l1(12), l2(12);
  ChunkTask t{p.mask.get(), 0, 6, 0, 4, 1, 2, 1, 4, p.softmax_scale};
  auto half = [&](int h) {  // contiguous [1, 4, 1, 4] buffers of one key half
    std::vector<float> out(16);
    for (int j = 0; j < 4; ++j)
      for (int d = 0; d < 4; ++d) out[j * 4 + d] = (h == 0 ? k : v)[(4 + j) * 4 + d];
    return out;
  };
  kernel.forward(t, q.data(), k.data(), v.data(), o1.data(), l1.data());
  t.k_begin = 4;
  const auto k2 = half(0), v2 = half(1);
  kernel.forward(t, q.data(), k2.data(), v2.data(), o2.data(), l2.data());
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 6; ++i) {
      const double a = l1[h * 6 + i], b = l2[h * 6 + i];
      const double m = std::max(a, b);
      const double l = m + std::log(std::exp(a - m) + std::exp(b - m));
      CHECK(l == Approx(lse[h * 6 + i]).epsilon(1e-5));
      for (int d = 0; d < 4; ++d) {
        const std::size_t at = (i * 2 + h) * 4 + d;
        const double merged = std::exp(a - l) * o1[at] + std::exp(b - l) * o2[at];
        CHECK(merged == Approx(o[at]).margin(1e-5));
      }
    }
}
