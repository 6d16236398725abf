// The arithmetic of example.naive: one query row at a time, only over the keys the mask allows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "naive_backend.hpp"

namespace example {

namespace {

using Ranges = std::vector<std::pair<std::int64_t, std::int64_t>>;

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// Element offset of (b, s, h, 0) in a row-major [B, S, H, D] tensor.
std::int64_t at(std::int64_t b, std::int64_t s, std::int64_t h, std::int64_t seqlen, std::int64_t heads,
                std::int64_t dim) {
  return ((b * seqlen + s) * heads + h) * dim;
}

float dot(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
  for (std::int64_t d = 0; d < n; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace

void naive_forward(const attnbench::Problem& p, const float* q, const float* k, const float* v, float* o,
                   float* lse) {
  const auto& s = p.shape;
  const std::int64_t D = s.head_dim, group = s.group();
  const float scale = static_cast<float>(p.softmax_scale);
  Ranges ranges;
  std::vector<float> scores(static_cast<std::size_t>(s.seqlen_k));
  for (std::int64_t i = 0; i < s.seqlen_q; ++i) {
    // The mask is the same for every batch and head: ask it once per row.
    p.mask->row_ranges(i, ranges);
    for (std::int64_t b = 0; b < s.batch; ++b)
      for (std::int64_t h = 0; h < s.heads_q; ++h) {
        const std::int64_t hk = h / group;
        const float* qi = q + at(b, i, h, s.seqlen_q, s.heads_q, D);
        float* oi = o + at(b, i, h, s.seqlen_q, s.heads_q, D);
        float* lse_i = lse + (b * s.heads_q + h) * s.seqlen_q + i;
        float m = neg_inf;
        for (auto [lo, hi] : ranges)
          for (std::int64_t j = lo; j < hi; ++j) {
            scores[j] = scale * dot(qi, k + at(b, j, hk, s.seqlen_k, s.heads_kv, D), D);
            m = std::max(m, scores[j]);
          }
        std::fill(oi, oi + D, 0.0f);
        if (m == neg_inf) {  // no allowed key (the contract: O = 0, LSE = -inf)
          *lse_i = neg_inf;
          continue;
        }
        float sum = 0.0f;
        for (auto [lo, hi] : ranges)
          for (std::int64_t j = lo; j < hi; ++j) {
            const float w = std::exp(scores[j] - m);
            sum += w;
            const float* vj = v + at(b, j, hk, s.seqlen_k, s.heads_kv, D);
            for (std::int64_t d = 0; d < D; ++d) oi[d] += w * vj[d];
          }
        for (std::int64_t d = 0; d < D; ++d) oi[d] /= sum;
        *lse_i = m + std::log(sum);
      }
  }
}

void naive_backward(const attnbench::Problem& p, const float* q, const float* k, const float* v,
                    const float* o, const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  const auto& s = p.shape;
  const std::int64_t D = s.head_dim, group = s.group();
  const float scale = static_cast<float>(p.softmax_scale);
  std::fill(dq, dq + s.q_elems(), 0.0f);
  std::fill(dk, dk + s.kv_elems(), 0.0f);
  std::fill(dv, dv + s.kv_elems(), 0.0f);
  Ranges ranges;
  for (std::int64_t i = 0; i < s.seqlen_q; ++i) {
    p.mask->row_ranges(i, ranges);
    for (std::int64_t b = 0; b < s.batch; ++b)
      for (std::int64_t h = 0; h < s.heads_q; ++h) {
        const float l = lse[(b * s.heads_q + h) * s.seqlen_q + i];
        if (l == neg_inf) continue;  // the row attended nothing: no gradient flows
        const std::int64_t hk = h / group;
        const std::int64_t qoff = at(b, i, h, s.seqlen_q, s.heads_q, D);
        // delta_i = rowsum(dO_i * O_i) = sum_j P_ij dP_ij, the softmax Jacobian's shift.
        const float delta = dot(dout + qoff, o + qoff, D);
        for (auto [lo, hi] : ranges)
          for (std::int64_t j = lo; j < hi; ++j) {
            const std::int64_t koff = at(b, j, hk, s.seqlen_k, s.heads_kv, D);
            const float prob = std::exp(scale * dot(q + qoff, k + koff, D) - l);
            const float ds = prob * (dot(dout + qoff, v + koff, D) - delta) * scale;
            for (std::int64_t d = 0; d < D; ++d) {
              dq[qoff + d] += ds * k[koff + d];
              dk[koff + d] += ds * q[qoff + d];
              dv[koff + d] += prob * dout[qoff + d];
            }
          }
      }
  }
}

}  // namespace example
