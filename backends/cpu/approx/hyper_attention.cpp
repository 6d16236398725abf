// cpu.hyper: HyperAttention (arXiv 2310.05869) — sorted LSH block-diagonal attention plus sampled columns,
// merged by log-sum-exp; causal masks by the paper's recursive split.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "attnbench/registry.hpp"
#include "backends/cpu/approx/approx_common.hpp"

namespace attnbench::cpu::approx {

namespace {

struct HyperParams {
  i64 projections = 7, block = 256, samples = 256;
};

HyperParams read_params(const Problem& p) {
  HyperParams h;
  h.projections = int_option(p, "cpu.hyper", "projections", 7, 1, 30);
  h.block = int_option(p, "cpu.hyper", "block", 256, 1, 1 << 24);
  h.samples = int_option(p, "cpu.hyper", "samples", 256, 0, 1 << 24);
  return h;
}

// One head's run: the LSH codes of every query and key, then the recursion over ranges.
class Hyper {
 public:
  Hyper(const Head& h, const HyperParams& prm) : h_(h), prm_(prm) {
    // Random hyperplanes, one set per head; a row's code is the sign bits of its projections,
    // ranked so that codes next to each other differ in one bit (Gray order): Hamming-sorted.
    std::mt19937_64 rng(mix_seed(h.seed, 0x4879706572ull));
    std::normal_distribution<double> normal;  // only the order of codes matters, not portability
    planes_.resize(static_cast<std::size_t>(prm.projections * h.d));
    for (auto& x : planes_) x = static_cast<float>(normal(rng));
    qrank_ = ranks(h.q.data(), h.sq);
    krank_ = ranks(h.k.data(), h.sk);
  }

  void run(double* o, double* lse) {
    rows_.assign(static_cast<std::size_t>(h_.sq), Partial{std::vector<double>(h_.dv, 0.0)});
    if (!h_.causal) {
      full(0, h_.sq, 0, h_.sk);
    } else {
      // Bottom-right aligned: query i sees keys <= i + off. Keys before `off` are seen by every
      // query (an unmasked part); the rest is a square causal problem.
      const i64 off = h_.sk - h_.sq;
      if (off > 0) full(0, h_.sq, 0, off);
      const i64 q0 = off < 0 ? -off : 0, k0 = off > 0 ? off : 0;
      causal(q0, k0, std::min(h_.sq - q0, h_.sk - k0));
    }
    for (i64 i = 0; i < h_.sq; ++i) {
      std::copy(rows_[i].o.begin(), rows_[i].o.end(), o + i * h_.dv);
      lse[i] = rows_[i].lse;
    }
  }

 private:
  std::vector<std::uint32_t> ranks(const float* x, i64 n) const {
    std::vector<std::uint32_t> r(static_cast<std::size_t>(n));
    for (i64 i = 0; i < n; ++i) {
      std::uint32_t code = 0;
      for (i64 b = 0; b < prm_.projections; ++b) {
        float dot = 0.0f;
        for (i64 c = 0; c < h_.d; ++c) dot += planes_[b * h_.d + c] * x[i * h_.d + c];
        code = (code << 1) | (dot >= 0.0f ? 1u : 0u);
      }
      // Position of `code` in the reflected Gray sequence: the inverse Gray transform.
      std::uint32_t pos = code;
      for (std::uint32_t s = code >> 1; s != 0; s >>= 1) pos ^= s;
      r[i] = pos;
    }
    return r;
  }

  // Square causal part: queries q0 + i see keys k0 .. k0 + i. The recursion: two causal halves,
  // and the lower-left quarter, unmasked, by the block-diagonal + sampled approximation.
  void causal(i64 q0, i64 k0, i64 n) {
    if (n <= 0) return;
    if (n <= prm_.block) {  // small enough: exact
      std::vector<i64> keys;
      for (i64 i = 0; i < n; ++i) {
        keys.push_back(k0 + i);
        merge_into(rows_[q0 + i], attend(h_, q0 + i, keys));
      }
      return;
    }
    const i64 half = n / 2;
    causal(q0, k0, half);
    causal(q0 + half, k0 + half, n - half);
    full(q0 + half, n - half, k0, half);
  }

  // Unmasked part: queries [q0, q0 + nq) against keys [k0, k0 + nk). Both sorted by LSH rank and cut
  // into the same number of blocks; query block b attends key block b exactly, plus `samples` keys
  // drawn uniformly (with replacement) from the other blocks, each weighted (others / samples).
  void full(i64 q0, i64 nq, i64 k0, i64 nk) {
    if (nq <= 0 || nk <= 0) return;
    std::vector<i64> qs(nq), ks(nk);
    std::iota(qs.begin(), qs.end(), q0);
    std::iota(ks.begin(), ks.end(), k0);
    const auto by = [](const std::vector<std::uint32_t>& rank) {
      return [&rank](i64 a, i64 b) { return rank[a] != rank[b] ? rank[a] < rank[b] : a < b; };
    };
    std::sort(qs.begin(), qs.end(), by(qrank_));
    std::sort(ks.begin(), ks.end(), by(krank_));
    const i64 blocks = (std::max(nq, nk) + prm_.block - 1) / prm_.block;
    std::mt19937_64 rng(
        mix_seed(mix_seed(h_.seed, static_cast<std::uint64_t>(q0)), static_cast<std::uint64_t>(k0)));
    for (i64 b = 0; b < blocks; ++b) {
      const i64 qa = b * nq / blocks, qb = (b + 1) * nq / blocks;
      const i64 ka = b * nk / blocks, kb = (b + 1) * nk / blocks;
      const std::vector<i64> in_block(ks.begin() + ka, ks.begin() + kb);
      // The residual: every other key when the samples would cover them, else a uniform sample.
      const i64 others = nk - (kb - ka);
      std::vector<i64> sampled;
      double log_weight = 0.0;
      if (others > 0 && prm_.samples > 0) {
        if (prm_.samples >= others) {
          sampled.insert(sampled.end(), ks.begin(), ks.begin() + ka);
          sampled.insert(sampled.end(), ks.begin() + kb, ks.end());
        } else {
          std::uniform_int_distribution<i64> pick(0, others - 1);
          for (i64 s = 0; s < prm_.samples; ++s) {
            const i64 r = pick(rng);
            sampled.push_back(ks[r < ka ? r : r + (kb - ka)]);
          }
          log_weight = std::log(static_cast<double>(others) / static_cast<double>(prm_.samples));
        }
      }
      for (i64 i = qa; i < qb; ++i) {
        Partial part = attend(h_, qs[i], in_block);
        merge_into(part, attend(h_, qs[i], sampled, log_weight));
        merge_into(rows_[qs[i]], part);
      }
    }
  }

  const Head& h_;
  HyperParams prm_;
  std::vector<float> planes_;
  std::vector<std::uint32_t> qrank_, krank_;
  std::vector<Partial> rows_;
};

class HyperBackend final : public Backend {
 public:
  BackendInfo info() const override {
    return approx_info("cpu.hyper",
                       "HyperAttention (arXiv 2310.05869): sorted-LSH block-diagonal attention plus sampled "
                       "columns, merged by LSE; options projections (7), block (256), samples (256)",
                       {"projections", "block", "samples"});
  }
  Support supports(const Problem& p) const override {
    // Exact when one block holds every query and key, or the samples cover every key outside the
    // blocks (then taken whole, unweighted): see causal() and full().
    return approx_supports(info(), p, [&] {
      const HyperParams prm = read_params(p);
      const auto& sh = p.shape;
      return std::max(sh.seqlen_q, sh.seqlen_k) <= prm.block || prm.samples >= sh.seqlen_k;
    });
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    const HyperParams prm = read_params(p);
    const std::size_t scratch =
        static_cast<std::size_t>((p.shape.seqlen_q + p.shape.seqlen_k) * 24 + (prm.block + prm.samples) * 16 +
                                 p.shape.seqlen_q * (p.shape.value_dim() + 4) * 8);
    return make_execution(
        p, in, r, [prm](const Head& h, double* o, double* lse) { Hyper(h, prm).run(o, lse); }, scratch);
  }
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(HyperBackend);

}  // namespace attnbench::cpu::approx
