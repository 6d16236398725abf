// cpu.math arithmetic: GEMMs by cblas_sgemm (split by rows over OpenMP threads), the elementwise ops as full
// passes.
#include "backends/cpu/math/math_attention.hpp"

#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace attnbench::cpu::math {

namespace {

using i64 = std::int64_t;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// C[M x N] = alpha op(A) op(B) + beta C with the M rows split over the OpenMP
// threads, each calling single-threaded sgemm: OpenBLAS's own thread pool would
// otherwise spin against the OpenMP threads of the elementwise passes.
void parallel_sgemm(bool trans_a, bool trans_b, i64 M, i64 N, i64 K, float alpha, const float* A, i64 lda,
                    const float* B, i64 ldb, float beta, float* C, i64 ldc, int threads) {
  if (M <= 0 || N <= 0) return;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const i64 m0 = M * t / n, m1 = M * (t + 1) / n;
    if (m1 > m0) {
      if (K <= 0) {
        for (i64 i = m0; i < m1; ++i)
          for (i64 j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      } else {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    static_cast<int>(m1 - m0), static_cast<int>(N), static_cast<int>(K), alpha,
                    trans_a ? A + m0 : A + m0 * lda, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
                    C + m0 * ldc, static_cast<int>(ldc));
      }
    }
  }
}

// scores[b, h] = alpha * X[b, :, h] Y[b, :, h / (Hq / Hy)]^T for every (batch, query head), over a
// dim of `dim`: Q K^T * scale in the forward (Hy = Hk, dim D), dO V^T in the backward (Hy = Hv, dim Dv).
void scores_of_every_head(const Problem& p, float alpha, const float* x, const float* y, i64 Hy, i64 dim,
                          float* scores, int threads) {
  const auto& s = p.shape;
  const i64 Hq = s.heads_q, Sq = s.seqlen_q, Sk = s.seqlen_k, group = Hq / Hy;
  for (i64 b = 0; b < s.batch; ++b)
    for (i64 h = 0; h < Hq; ++h)
      parallel_sgemm(false, true, Sq, Sk, dim, alpha, x + b * Sq * Hq * dim + h * dim, Hq * dim,
                     y + b * Sk * Hy * dim + (h / group) * dim, Hy * dim, 0.0f,
                     scores + (b * Hq + h) * Sq * Sk, Sk, threads);
}

}  // namespace

std::size_t score_elems(const Problem& p) {
  const auto& s = p.shape;
  return static_cast<std::size_t>(s.batch) * static_cast<std::size_t>(s.heads_q) *
         static_cast<std::size_t>(s.seqlen_q) * static_cast<std::size_t>(s.seqlen_k);
}

// One [Sq, Sk] plane serves every (batch, head): one mask and no bias.
static bool one_plane(const Problem& p) { return p.uniform_mask() && !p.bias; }

std::size_t mask_elems(const Problem& p) {
  const std::size_t plane =
      static_cast<std::size_t>(p.shape.seqlen_q) * static_cast<std::size_t>(p.shape.seqlen_k);
  // Masks per (batch, head) need the full [B, Hq, Sq, Sk] tensor, as PyTorch's math path broadcasts.
  // So does a bias (per head): it is added to the same tensor, as SDPA's float attn_mask carries it.
  return one_plane(p) ? plane : plane * static_cast<std::size_t>(p.shape.batch * p.shape.heads_q);
}

void build_additive_mask(const Problem& p, float* mask, int threads) {
  const i64 Sq = p.shape.seqlen_q, Sk = p.shape.seqlen_k, Hq = p.shape.heads_q;
  const i64 planes = one_plane(p) ? 1 : p.shape.batch * Hq;
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::pair<i64, i64>> ranges;
#pragma omp for schedule(static)
    for (i64 r = 0; r < planes * Sq; ++r) {
      const i64 bh = r / Sq, i = r % Sq;
      float* row = mask + r * Sk;
      for (i64 j = 0; j < Sk; ++j) row[j] = kNegInf;
      p.mask_for(bh / Hq, bh % Hq).row_ranges(i, ranges);
      const Bias* bias = p.bias.get();
      for (auto [lo, hi] : ranges)
        for (i64 j = lo; j < hi; ++j)
          row[j] = bias != nullptr ? static_cast<float>(bias->value(bh % Hq, i, j)) : 0.0f;
    }
  }
}

void forward(const Problem& p, const float* q, const float* k, const float* v, const float* mask,
             float* probs, float* o, float* lse, int threads) {
  const auto& s = p.shape;
  const i64 B = s.batch, Hq = s.heads_q, Hv = s.value_heads(), Sq = s.seqlen_q, Sk = s.seqlen_k;
  const i64 Dv = s.value_dim(), group_v = s.group_v();
  const float scale = static_cast<float>(p.softmax_scale);
  openblas_set_num_threads(1);
  // attn = Q K^T * scale, every (batch, head).
  scores_of_every_head(p, scale, q, k, s.heads_kv, s.head_dim, probs, threads);
  const i64 rows = B * Hq * Sq;
  // attn += mask (broadcast over batch and heads when it is one [Sq, Sk] plane).
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 r = 0; r < rows; ++r) {
    float* row = probs + r * Sk;
    const float* m = mask + (one_plane(p) ? r % Sq : r) * Sk;
#pragma omp simd
    for (i64 j = 0; j < Sk; ++j) row[j] += m[j];
  }
  // Safe softmax over keys: a row with no allowed key becomes zeros (lse = -inf).
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 r = 0; r < rows; ++r) {
    float* row = probs + r * Sk;
    float mx = kNegInf;
#pragma omp simd reduction(max : mx)
    for (i64 j = 0; j < Sk; ++j) mx = row[j] > mx ? row[j] : mx;
    if (mx == kNegInf) {
      for (i64 j = 0; j < Sk; ++j) row[j] = 0.0f;
      lse[r] = kNegInf;
      continue;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (i64 j = 0; j < Sk; ++j) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (i64 j = 0; j < Sk; ++j) row[j] *= inv;
    lse[r] = mx + std::log(sum);  // rows of probs and lse are both [B, Hq, Sq]
  }
  // O = P V.
  for (i64 b = 0; b < B; ++b)
    for (i64 h = 0; h < Hq; ++h)
      parallel_sgemm(false, false, Sq, Dv, Sk, 1.0f, probs + (b * Hq + h) * Sq * Sk, Sk,
                     v + b * Sk * Hv * Dv + (h / group_v) * Dv, Hv * Dv, 0.0f, o + b * Sq * Hq * Dv + h * Dv,
                     Hq * Dv, threads);
}

void backward(const Problem& p, const float* q, const float* k, const float* v, const float* probs,
              const float* dout, float* dprobs, float* dq, float* dk, float* dv, int threads) {
  const auto& s = p.shape;
  const i64 B = s.batch, Hq = s.heads_q, Hkv = s.heads_kv, Hv = s.value_heads(), Sq = s.seqlen_q,
            Sk = s.seqlen_k;
  const i64 D = s.head_dim, Dv = s.value_dim(), group = s.group(), group_v = s.group_v();
  const float scale = static_cast<float>(p.softmax_scale);
  openblas_set_num_threads(1);
  // dP = dO V^T.
  scores_of_every_head(p, 1.0f, dout, v, Hv, Dv, dprobs, threads);
  // Softmax backward (and the scale of the scores), in place: dS = P (dP - rowsum(dP P)) * scale.
  const i64 rows = B * Hq * Sq;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 r = 0; r < rows; ++r) {
    const float* pr = probs + r * Sk;
    float* gr = dprobs + r * Sk;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (i64 j = 0; j < Sk; ++j) dot += gr[j] * pr[j];
#pragma omp simd
    for (i64 j = 0; j < Sk; ++j) gr[j] = pr[j] * (gr[j] - dot) * scale;
  }
  // dQ = dS K; dK = sum over the group of dS^T Q; dV = sum of P^T dO.
  for (i64 b = 0; b < B; ++b) {
    for (i64 h = 0; h < Hq; ++h) {
      const i64 off_q = b * Sq * Hq * D + h * D, off_k = b * Sk * Hkv * D + (h / group) * D;
      const i64 off_o = b * Sq * Hq * Dv + h * Dv, off_v = b * Sk * Hv * Dv + (h / group_v) * Dv;
      const float* ds = dprobs + (b * Hq + h) * Sq * Sk;
      const float* pr = probs + (b * Hq + h) * Sq * Sk;
      // The first query head of a key (value) group overwrites dK (dV), the others add.
      const float beta = h % group == 0 ? 0.0f : 1.0f, beta_v = h % group_v == 0 ? 0.0f : 1.0f;
      parallel_sgemm(false, false, Sq, D, Sk, 1.0f, ds, Sk, k + off_k, Hkv * D, 0.0f, dq + off_q, Hq * D,
                     threads);
      parallel_sgemm(true, false, Sk, D, Sq, 1.0f, ds, Sk, q + off_q, Hq * D, beta, dk + off_k, Hkv * D,
                     threads);
      parallel_sgemm(true, false, Sk, Dv, Sq, 1.0f, pr, Sk, dout + off_o, Hq * Dv, beta_v, dv + off_v,
                     Hv * Dv, threads);
    }
  }
}

}  // namespace attnbench::cpu::math
