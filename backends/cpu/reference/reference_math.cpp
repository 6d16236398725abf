// The float64 attention arithmetic of cpu.reference, over a query chunk × key chunk of a global mask.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "backends/cpu/reference/reference.hpp"

namespace attnbench::cpu {

namespace {

constexpr double neg_inf = -std::numeric_limits<double>::infinity();

// Row-major [B, n, H, D] element offset.
inline std::int64_t at(std::int64_t b, std::int64_t s, std::int64_t h, std::int64_t n, std::int64_t heads,
                       std::int64_t d) {
  return ((b * n + s) * heads + h) * d;
}

// Allowed keys of global row q inside [k_begin, k_begin + nk), as chunk-local indices.
void local_keys(const Mask& mask, std::int64_t q, std::int64_t k_begin, std::int64_t nk,
                std::vector<std::pair<std::int64_t, std::int64_t>>& ranges) {
  mask.row_ranges(q, ranges);
  std::size_t w = 0;
  for (auto [lo, hi] : ranges) {
    lo = std::max(lo, k_begin) - k_begin;
    hi = std::min(hi, k_begin + nk) - k_begin;
    if (lo < hi) ranges[w++] = {lo, hi};
  }
  ranges.resize(w);
}

// The query heads of one backward task: whole groups of key heads and whole groups of value
// heads (lcm of the two group sizes), so every dK and dV row is written by one thread only.
std::int64_t heads_per_unit(std::int64_t group_k, std::int64_t group_v) { return std::lcm(group_k, group_v); }

template <class Out>
void forward_impl(const ChunkTask& t, const float* q, const float* k, const float* v, Out* o, Out* lse) {
  const std::int64_t D = t.head_dim, Dv = t.value_dim(), Hq = t.heads_q, Hk = t.heads_kv,
                     Hv = t.value_heads();
  const std::int64_t group_k = Hq / Hk, group_v = Hq / Hv;
  const std::int64_t total = t.batch * Hq * t.nq;
#pragma omp parallel
  {
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::vector<double> scores(static_cast<std::size_t>(t.nk));
    std::vector<double> acc(static_cast<std::size_t>(Dv));
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t idx = 0; idx < total; ++idx) {
      const std::int64_t b = idx / (Hq * t.nq), h = (idx / t.nq) % Hq, i = idx % t.nq;
      const std::int64_t hk = h / group_k, hv = h / group_v;
      const float* qi = q + at(b, i, h, t.nq, Hq, D);
      Out* oi = o + at(b, i, h, t.nq, Hq, Dv);
      local_keys(t.mask_at(b, h), t.q_begin + i, t.k_begin, t.nk, ranges);
      double m = neg_inf;
      for (auto [lo, hi] : ranges)
        for (std::int64_t j = lo; j < hi; ++j) {
          const float* kj = k + at(b, j, hk, t.nk, Hk, D);
          double s = 0;
          for (std::int64_t d = 0; d < D; ++d) s += static_cast<double>(qi[d]) * kj[d];
          s *= t.softmax_scale;
          if (t.bias != nullptr) s += t.bias->value(h, t.q_begin + i, t.k_begin + j);  // in float64
          scores[j] = s;
          m = std::max(m, s);
        }
      std::fill(acc.begin(), acc.end(), 0.0);
      Out* lse_i = lse + (b * Hq + h) * t.nq + i;
      if (m == neg_inf) {  // no allowed key: O = 0, LSE = -inf
        for (std::int64_t d = 0; d < Dv; ++d) oi[d] = 0;
        *lse_i = static_cast<Out>(neg_inf);
        continue;
      }
      double sum = 0;
      for (auto [lo, hi] : ranges)
        for (std::int64_t j = lo; j < hi; ++j) {
          const double p = std::exp(scores[j] - m);
          sum += p;
          const float* vj = v + at(b, j, hv, t.nk, Hv, Dv);
          for (std::int64_t d = 0; d < Dv; ++d) acc[d] += p * vj[d];
        }
      for (std::int64_t d = 0; d < Dv; ++d) oi[d] = static_cast<Out>(acc[d] / sum);
      *lse_i = static_cast<Out>(m + std::log(sum));
    }
  }
}

template <class In, class Out>
void backward_impl(const ChunkTask& t, const float* q, const float* k, const float* v, const In* o,
                   const In* lse, const float* dout, Out* dq, Out* dk, Out* dv) {
  const std::int64_t D = t.head_dim, Dv = t.value_dim(), Hq = t.heads_q, Hk = t.heads_kv,
                     Hv = t.value_heads();
  const std::int64_t group_k = Hq / Hk, group_v = Hq / Hv, unit = heads_per_unit(group_k, group_v);
  const std::int64_t units = Hq / unit, unit_k = unit / group_k, unit_v = unit / group_v;
  // One (batch, unit of query heads) per task: dK/dV of its key and value heads are written by one thread
  // only.
#pragma omp parallel
  {
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::vector<double> dk_acc, dv_acc, dq_acc(static_cast<std::size_t>(D));
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t bu = 0; bu < t.batch * units; ++bu) {
      const std::int64_t b = bu / units, u = bu % units;
      const std::int64_t hk0 = u * unit_k, hv0 = u * unit_v;  // first key and value head of the unit
      dk_acc.assign(static_cast<std::size_t>(unit_k * t.nk * D), 0.0);
      dv_acc.assign(static_cast<std::size_t>(unit_v * t.nk * Dv), 0.0);
      for (std::int64_t h = u * unit; h < (u + 1) * unit; ++h) {
        const std::int64_t hk = h / group_k, hv = h / group_v;
        for (std::int64_t i = 0; i < t.nq; ++i) {
          const std::int64_t qoff = at(b, i, h, t.nq, Hq, D), ooff = at(b, i, h, t.nq, Hq, Dv);
          const double l = static_cast<double>(lse[(b * Hq + h) * t.nq + i]);
          std::fill(dq_acc.begin(), dq_acc.end(), 0.0);
          if (l != neg_inf) {
            double delta = 0;  // D_i = rowsum(dO ∘ O)
            for (std::int64_t d = 0; d < Dv; ++d)
              delta += static_cast<double>(dout[ooff + d]) * static_cast<double>(o[ooff + d]);
            local_keys(t.mask_at(b, h), t.q_begin + i, t.k_begin, t.nk, ranges);
            for (auto [lo, hi] : ranges)
              for (std::int64_t j = lo; j < hi; ++j) {
                const std::int64_t koff = at(b, j, hk, t.nk, Hk, D), voff = at(b, j, hv, t.nk, Hv, Dv);
                double s = 0, dp = 0;
                for (std::int64_t d = 0; d < D; ++d) s += static_cast<double>(q[qoff + d]) * k[koff + d];
                for (std::int64_t d = 0; d < Dv; ++d) dp += static_cast<double>(dout[ooff + d]) * v[voff + d];
                const double bias = t.bias != nullptr ? t.bias->value(h, t.q_begin + i, t.k_begin + j) : 0.0;
                // A constant additive bias changes P but not dS's chain to q and k.
                const double p = std::exp(s * t.softmax_scale + bias - l);
                const double ds = p * (dp - delta) * t.softmax_scale;
                double* dkj = dk_acc.data() + ((hk - hk0) * t.nk + j) * D;
                double* dvj = dv_acc.data() + ((hv - hv0) * t.nk + j) * Dv;
                for (std::int64_t d = 0; d < D; ++d) {
                  dq_acc[d] += ds * k[koff + d];
                  dkj[d] += ds * q[qoff + d];
                }
                for (std::int64_t d = 0; d < Dv; ++d) dvj[d] += p * dout[ooff + d];
              }
          }
          for (std::int64_t d = 0; d < D; ++d) dq[qoff + d] = static_cast<Out>(dq_acc[d]);
        }
      }
      for (std::int64_t hk = hk0; hk < hk0 + unit_k; ++hk)
        for (std::int64_t j = 0; j < t.nk; ++j) {
          const std::int64_t koff = at(b, j, hk, t.nk, Hk, D);
          for (std::int64_t d = 0; d < D; ++d)
            dk[koff + d] = static_cast<Out>(dk_acc[((hk - hk0) * t.nk + j) * D + d]);
        }
      for (std::int64_t hv = hv0; hv < hv0 + unit_v; ++hv)
        for (std::int64_t j = 0; j < t.nk; ++j) {
          const std::int64_t voff = at(b, j, hv, t.nk, Hv, Dv);
          for (std::int64_t d = 0; d < Dv; ++d)
            dv[voff + d] = static_cast<Out>(dv_acc[((hv - hv0) * t.nk + j) * Dv + d]);
        }
    }
  }
}

ChunkTask whole(const Problem& p) {
  ChunkTask t;
  t.mask = p.mask.get();
  t.head_masks = &p.head_masks;
  t.bias = p.bias.get();
  t.q_begin = 0;
  t.nq = p.shape.seqlen_q;
  t.k_begin = 0;
  t.nk = p.shape.seqlen_k;
  t.batch = p.shape.batch;
  t.heads_q = p.shape.heads_q;
  t.heads_kv = p.shape.heads_kv;
  t.head_dim = p.shape.head_dim;
  t.heads_v = p.shape.value_heads();
  t.head_dim_v = p.shape.value_dim();
  t.softmax_scale = p.softmax_scale;
  return t;
}

}  // namespace

void reference_forward(const Problem& p, const float* q, const float* k, const float* v, double* o,
                       double* lse) {
  forward_impl(whole(p), q, k, v, o, lse);
}

void reference_backward(const Problem& p, const float* q, const float* k, const float* v, const double* o,
                        const double* lse, const float* dout, double* dq, double* dk, double* dv) {
  backward_impl(whole(p), q, k, v, o, lse, dout, dq, dk, dv);
}

void ReferenceChunkKernel::forward(const ChunkTask& t, const float* q, const float* k, const float* v,
                                   float* o, float* lse) const {
  forward_impl(t, q, k, v, o, lse);
}

void ReferenceChunkKernel::backward(const ChunkTask& t, const float* q, const float* k, const float* v,
                                    const float* o, const float* lse, const float* dout, float* dq, float* dk,
                                    float* dv) const {
  backward_impl(t, q, k, v, o, lse, dout, dq, dk, dv);
}

}  // namespace attnbench::cpu
