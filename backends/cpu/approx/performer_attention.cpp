// cpu.performer: Performer's FAVOR+ (arXiv 2009.14794) — positive orthogonal random features of the softmax
// kernel, causal by prefix sums.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "attnbench/registry.hpp"
#include "backends/cpu/approx/approx_common.hpp"

namespace attnbench::cpu::approx {

namespace {

i64 read_features(const Problem& p) { return int_option(p, "cpu.performer", "features", 256, 1, 1 << 16); }

// Orthogonal Gaussian features (FAVOR+): blocks of head_dim orthonormal rows (Gram-Schmidt of a
// Gaussian matrix), each row rescaled to the norm of an independent Gaussian vector, so every row
// is marginally N(0, I) and rows of a block are exactly orthogonal.
std::vector<double> orthogonal_features(i64 m, i64 d, std::uint64_t seed) {
  std::mt19937_64 rng(mix_seed(seed, 0x4641564f52ull));
  std::normal_distribution<double> normal;
  std::vector<double> w(static_cast<std::size_t>(m * d));
  for (i64 start = 0; start < m; start += d) {
    const i64 rows = std::min(d, m - start);
    std::vector<double> g(static_cast<std::size_t>(d * d));
    for (auto& x : g) x = normal(rng);
    for (i64 r = 0; r < rows; ++r) {
      double* row = g.data() + r * d;
      for (i64 p = 0; p < r; ++p) {
        const double* prev = g.data() + p * d;
        double dot = 0.0;
        for (i64 c = 0; c < d; ++c) dot += row[c] * prev[c];
        for (i64 c = 0; c < d; ++c) row[c] -= dot * prev[c];
      }
      double norm = 0.0;
      for (i64 c = 0; c < d; ++c) norm += row[c] * row[c];
      norm = std::sqrt(norm);
      for (i64 c = 0; c < d; ++c) row[c] /= norm;
      double chi = 0.0;
      for (i64 c = 0; c < d; ++c) chi += std::pow(normal(rng), 2);
      chi = std::sqrt(chi);
      for (i64 c = 0; c < d; ++c) w[(start + r) * d + c] = row[c] * chi;
    }
  }
  return w;
}

// phi(x) = exp(w.x - |x|^2 / 2) / sqrt(m) with x = sqrt(scale) * q (or k): E[phi(q).phi(k)] =
// exp(scale * q.k). Per query the largest w.x is taken out (it cancels in O and returns in the
// LSE); for keys one constant per head (the largest over all keys), so their ratios stay exact.
class Performer {
 public:
  Performer(const Head& h, i64 m) : h_(h), m_(m), w_(orthogonal_features(m, h.d, h.seed)) {}

  void run(double* o, double* lse) {
    const i64 dv = h_.dv, off = h_.sk - h_.sq;
    const double root = std::sqrt(h_.scale);
    // Key features, stabilised by the largest exponent over all keys.
    std::vector<double> kphi(static_cast<std::size_t>(h_.sk * m_));
    double kmax = -std::numeric_limits<double>::infinity();
    for (i64 j = 0; j < h_.sk; ++j) {
      const double half = exponents(h_.krow(j), root, kphi.data() + j * m_);
      for (i64 r = 0; r < m_; ++r) kmax = std::max(kmax, kphi[j * m_ + r] -= half);
    }
    for (auto& x : kphi) x = std::exp(x - kmax);
    std::vector<double> S(static_cast<std::size_t>(m_ * dv), 0.0), z(static_cast<std::size_t>(m_), 0.0),
        qphi(static_cast<std::size_t>(m_));
    i64 next = 0;
    const auto add_key = [&](i64 j) {
      const double* f = kphi.data() + j * m_;
      const float* v = h_.vrow(j);
      for (i64 r = 0; r < m_; ++r) {
        z[r] += f[r];
        double* Sr = S.data() + r * dv;
        for (i64 c = 0; c < dv; ++c) Sr[c] += f[r] * v[c];
      }
    };
    if (!h_.causal)
      for (; next < h_.sk; ++next) add_key(next);
    for (i64 i = 0; i < h_.sq; ++i) {
      if (h_.causal)
        for (; next <= std::min(i + off, h_.sk - 1); ++next) add_key(next);
      double* oi = o + i * dv;
      std::fill(oi, oi + dv, 0.0);
      if (next == 0) {  // no allowed key
        lse[i] = -std::numeric_limits<double>::infinity();
        continue;
      }
      const double half = exponents(h_.qrow(i), root, qphi.data());
      double qmax = -std::numeric_limits<double>::infinity();
      for (i64 r = 0; r < m_; ++r) qmax = std::max(qmax, qphi[r]);
      double den = 0.0;
      for (i64 r = 0; r < m_; ++r) {
        const double f = std::exp(qphi[r] - qmax);
        den += f * z[r];
        const double* Sr = S.data() + r * dv;
        for (i64 c = 0; c < dv; ++c) oi[c] += f * Sr[c];
      }
      for (i64 c = 0; c < dv; ++c) oi[c] /= den;
      // Both features carry 1/sqrt(m): 1/m in all.
      lse[i] = std::log(den) + qmax - half + kmax - std::log(static_cast<double>(m_));
    }
  }

 private:
  // out[r] = w_r . x with x = root * row; returns |x|^2 / 2.
  double exponents(const float* row, double root, double* out) const {
    double norm = 0.0;
    for (i64 c = 0; c < h_.d; ++c) norm += static_cast<double>(row[c]) * row[c];
    for (i64 r = 0; r < m_; ++r) {
      const double* w = w_.data() + r * h_.d;
      double s = 0.0;
      for (i64 c = 0; c < h_.d; ++c) s += w[c] * row[c];
      out[r] = root * s;
    }
    return 0.5 * root * root * norm;
  }

  const Head& h_;
  i64 m_;
  std::vector<double> w_;
};

class PerformerBackend final : public Backend {
 public:
  BackendInfo info() const override {
    // Random features are unbiased, but their variance grows with |q||k|.
    return approx_info("cpu.performer",
                       "Performer FAVOR+ (arXiv 2009.14794): positive orthogonal random features "
                       "(features 256), causal by prefix sums",
                       {"features"});
  }
  Support supports(const Problem& p) const override {
    return approx_supports(info(), p, [&] {
      read_features(p);
      return false;  // random features are never exact
    });
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    const i64 m = read_features(p);
    const std::size_t scratch = static_cast<std::size_t>(
        (p.shape.seqlen_k * m + m * (p.shape.head_dim + p.shape.value_dim() + 2)) * 8);
    return make_execution(
        p, in, r, [m](const Head& h, double* o, double* lse) { Performer(h, m).run(o, lse); }, scratch);
  }
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(PerformerBackend);

}  // namespace attnbench::cpu::approx
