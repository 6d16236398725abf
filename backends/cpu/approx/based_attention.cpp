// cpu.linear: BASED (arXiv 2402.18668) — linear attention with a 2nd-order Taylor feature map beside an
// exact sliding window of softmax attention, both in one normaliser.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "attnbench/registry.hpp"
#include "backends/cpu/approx/approx_common.hpp"

namespace attnbench::cpu::approx {

namespace {

struct BasedParams {
  i64 feature_dim = 16, window = 64;
};

BasedParams read_params(const Problem& p) {
  BasedParams b;
  b.feature_dim = int_option(p, "cpu.linear", "feature_dim", 16, 1, 64);
  b.window = int_option(p, "cpu.linear", "window", 64, 0, 1 << 30);
  return b;
}

// How the two parts combine: for query i (aligned position a = i + sk - sq), keys in the window
// (causal: a - window < j <= a; full: |a - j| < window) get their exact weight exp(s), every other
// allowed key the Taylor weight 1 + s + s^2/2 = phi(q).phi(k), and O = sum(w v) / sum(w) over both:
// softmax attention whose far keys are linearised. window >= S is exact attention.
class Based {
 public:
  Based(const Head& h, const BasedParams& prm) : h_(h), w_(prm.window) {
    // q and k to feature_dim dims: a seeded Gaussian projection (entries N(0, 1/f), so dot products
    // are kept in expectation) when feature_dim < head_dim, else the identity. The softmax scale
    // is folded in: qf.kf = scale * q.k (approximately).
    const i64 f = std::min(prm.feature_dim, h.d);
    f_ = f;
    F_ = 1 + f + f * f;
    std::vector<double> proj;
    if (f < h.d) {
      std::mt19937_64 rng(mix_seed(h.seed, 0x4241534544ull));
      std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(static_cast<double>(f)));
      proj.resize(static_cast<std::size_t>(h.d * f));
      for (auto& x : proj) x = normal(rng);
    }
    const double root = std::sqrt(h.scale);
    const auto project = [&](const float* x, double* out) {
      for (i64 j = 0; j < f; ++j) {
        double s = 0.0;
        if (proj.empty())
          s = x[j];
        else
          for (i64 c = 0; c < h.d; ++c) s += x[c] * proj[c * f + j];
        out[j] = root * s;
      }
    };
    qf_.resize(static_cast<std::size_t>(h.sq * f));
    kf_.resize(static_cast<std::size_t>(h.sk * f));
    for (i64 i = 0; i < h.sq; ++i) project(h.qrow(i), qf_.data() + i * f);
    for (i64 j = 0; j < h.sk; ++j) project(h.krow(j), kf_.data() + j * f);
  }

  void run(double* o, double* lse) {
    const i64 off = h_.sk - h_.sq, dv = h_.dv;
    // Linear part per query: numerator [dv] and denominator, from a prefix (keys before the window)
    // and, for the full mask, a suffix (keys after it).
    std::vector<double> num(static_cast<std::size_t>(h_.sq * dv), 0.0),
        den(static_cast<std::size_t>(h_.sq), 0.0);
    sweep(+1, num, den);
    if (!h_.causal) sweep(-1, num, den);
    std::vector<i64> keys;
    for (i64 i = 0; i < h_.sq; ++i) {
      const i64 a = i + off;
      const i64 lo = std::max<i64>(0, a - w_ + 1);
      const i64 hi = std::min<i64>(h_.sk - 1, h_.causal ? a : a + w_ - 1);
      keys.clear();
      for (i64 j = lo; j <= hi; ++j) keys.push_back(j);
      const Partial win = attend(h_, i, keys);
      double* oi = o + i * dv;
      if (den[i] <= 0.0) {  // no linear keys: the window alone (or nothing)
        std::copy(win.o.begin(), win.o.end(), oi);
        lse[i] = win.lse;
        continue;
      }
      // Both parts on one scale: M is the larger log-denominator.
      const double lin = std::log(den[i]);
      const double M = std::max(win.lse, lin);
      const double ww = win.lse == -std::numeric_limits<double>::infinity() ? 0.0 : std::exp(win.lse - M);
      const double wl = std::exp(-M);
      const double total = ww + wl * den[i];
      for (i64 c = 0; c < dv; ++c) oi[c] = (ww * win.o[c] + wl * num[i * dv + c]) / total;
      lse[i] = M + std::log(total);
    }
  }

 private:
  // phi(x) = [1, x, vec(x x^T) / sqrt(2)], so phi(q).phi(k) = 1 + q.k + (q.k)^2 / 2.
  void features(const double* x, double* phi) const {
    phi[0] = 1.0;
    for (i64 j = 0; j < f_; ++j) phi[1 + j] = x[j];
    const double r = 1.0 / std::sqrt(2.0);
    for (i64 j = 0; j < f_; ++j)
      for (i64 l = 0; l < f_; ++l) phi[1 + f_ + j * f_ + l] = x[j] * x[l] * r;
  }

  // dir +1: keys j <= a - window enter a running state (causal linear attention by prefix sums);
  // dir -1 (full mask only): keys j >= a + max(window, 1), from the end (window 0: a counted once).
  void sweep(int dir, std::vector<double>& num, std::vector<double>& den) const {
    const i64 off = h_.sk - h_.sq, dv = h_.dv;
    std::vector<double> S(static_cast<std::size_t>(F_ * dv), 0.0), z(static_cast<std::size_t>(F_), 0.0),
        phi(static_cast<std::size_t>(F_));
    i64 next = dir > 0 ? 0 : h_.sk - 1;  // next key to enter the state
    for (i64 t = 0; t < h_.sq; ++t) {
      const i64 i = dir > 0 ? t : h_.sq - 1 - t, a = i + off;
      const i64 last = dir > 0 ? std::min(a - w_, h_.sk - 1) : std::max<i64>(a + std::max<i64>(w_, 1), 0);
      for (; dir > 0 ? next <= last : next >= last; next += dir) {
        features(kf_.data() + next * f_, phi.data());
        const float* v = h_.vrow(next);
        for (i64 r = 0; r < F_; ++r) {
          z[r] += phi[r];
          double* Sr = S.data() + r * dv;
          for (i64 c = 0; c < dv; ++c) Sr[c] += phi[r] * v[c];
        }
      }
      features(qf_.data() + i * f_, phi.data());
      double d = 0.0;
      for (i64 r = 0; r < F_; ++r) d += phi[r] * z[r];
      den[i] += d;
      double* ni = num.data() + i * dv;
      for (i64 r = 0; r < F_; ++r) {
        const double* Sr = S.data() + r * dv;
        for (i64 c = 0; c < dv; ++c) ni[c] += phi[r] * Sr[c];
      }
    }
  }

  const Head& h_;
  i64 w_, f_ = 0, F_ = 0;
  std::vector<double> qf_, kf_;
};

class BasedBackend final : public Backend {
 public:
  BackendInfo info() const override {
    // The Taylor map is exact only near 0: see supports() for where the whole method is.
    return approx_info("cpu.linear",
                       "BASED (arXiv 2402.18668): 2nd-order Taylor linear attention (feature_dim 16) plus "
                       "an exact sliding window (window 64) in one normaliser",
                       {"feature_dim", "window"});
  }
  Support supports(const Problem& p) const override {
    // Exact when the window holds every allowed key of every query: |a - j| < window for all
    // aligned positions a and keys j, i.e. window >= max(Sq, Sk).
    return approx_supports(
        info(), p, [&] { return read_params(p).window >= std::max(p.shape.seqlen_q, p.shape.seqlen_k); });
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    const BasedParams prm = read_params(p);
    const i64 f = std::min(prm.feature_dim, p.shape.head_dim), F = 1 + f + f * f;
    const std::size_t scratch =
        static_cast<std::size_t>(((p.shape.seqlen_q + p.shape.seqlen_k) * f + F * (p.shape.value_dim() + 2) +
                                  p.shape.seqlen_q * (p.shape.value_dim() + 1)) *
                                 8);
    return make_execution(
        p, in, r, [prm](const Head& h, double* o, double* lse) { Based(h, prm).run(o, lse); }, scratch);
  }
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(BasedBackend);

}  // namespace attnbench::cpu::approx
