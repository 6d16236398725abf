// cpu.math arithmetic: QK^T and PV (and the backward GEMMs) by cblas_sgemm, masked softmax in between.
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

// Query rows [begin, end) of thread t out of n (a static, contiguous split).
std::pair<i64, i64> row_block(i64 rows, int t, int n) {
  return {rows * t / n, rows * (t + 1) / n};
}

// Sets row[k] = -inf for every key the mask forbids in query row q (PyTorch's masked_fill).
void mask_row(const Mask& mask, i64 q, float* row, i64 Sk,
              std::vector<std::pair<i64, i64>>& ranges) {
  mask.row_ranges(q, ranges);
  i64 cursor = 0;
  for (auto [lo, hi] : ranges) {
    for (i64 j = cursor; j < lo; ++j) row[j] = kNegInf;
    cursor = hi;
  }
  for (i64 j = cursor; j < Sk; ++j) row[j] = kNegInf;
}

float row_max(const float* row, i64 n) {
  float m = kNegInf;
#pragma omp simd reduction(max : m)
  for (i64 j = 0; j < n; ++j) m = row[j] > m ? row[j] : m;
  return m;
}

// row[j] = exp(row[j] - shift), returns the sum (exp(-inf) = 0 for masked keys).
float exp_row(float* row, i64 n, float shift) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (i64 j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - shift);
    sum += row[j];
  }
  return sum;
}

void sgemm(bool trans_a, bool trans_b, i64 M, i64 N, i64 K, float alpha, const float* A, i64 lda,
           const float* B, i64 ldb, float beta, float* C, i64 ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // BLAS would leave C * beta; the math is "C = beta * C"
    for (i64 i = 0; i < M; ++i)
      for (i64 j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(M), static_cast<int>(N),
              static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
              C, static_cast<int>(ldc));
}

}  // namespace

void forward(const Problem& p, const float* q, const float* k, const float* v, float* o,
             float* lse, float* scores, int threads) {
  const auto& s = p.shape;
  const i64 B = s.batch, Hq = s.heads_q, Hkv = s.heads_kv, Sq = s.seqlen_q, Sk = s.seqlen_k;
  const i64 D = s.head_dim, group = s.group();
  const float scale = static_cast<float>(p.softmax_scale);
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  {
    const auto [r0, r1] = row_block(Sq, omp_get_thread_num(), omp_get_num_threads());
    std::vector<std::pair<i64, i64>> ranges;
    for (i64 b = 0; b < B; ++b) {
      for (i64 h = 0; h < Hq; ++h) {
        const float* qh = q + (b * Sq + r0) * Hq * D + h * D;
        const float* kh = k + b * Sk * Hkv * D + (h / group) * D;
        const float* vh = v + b * Sk * Hkv * D + (h / group) * D;
        float* oh = o + (b * Sq + r0) * Hq * D + h * D;
        float* lh = lse + (b * Hq + h) * Sq;
        float* block = scores + r0 * Sk;
        // S = scale * Q K^T for this thread's rows, every key of them.
        sgemm(false, true, r1 - r0, Sk, D, scale, qh, Hq * D, kh, Hkv * D, 0.0f, block, Sk);
        for (i64 i = r0; i < r1; ++i) {
          float* row = scores + i * Sk;
          mask_row(*p.mask, i, row, Sk, ranges);
          const float m = row_max(row, Sk);
          if (m == kNegInf) {  // no allowed key: P = 0, so O = 0
            for (i64 j = 0; j < Sk; ++j) row[j] = 0.0f;
            lh[i] = kNegInf;
            continue;
          }
          const float sum = exp_row(row, Sk, m);
          const float inv = 1.0f / sum;
#pragma omp simd
          for (i64 j = 0; j < Sk; ++j) row[j] *= inv;
          lh[i] = m + std::log(sum);
        }
        sgemm(false, false, r1 - r0, D, Sk, 1.0f, block, Sk, vh, Hkv * D, 0.0f, oh, Hq * D);
      }
    }
  }
}

std::size_t backward_partials(const Problem& p, int threads) {
  return 2 * static_cast<std::size_t>(threads) * static_cast<std::size_t>(p.shape.seqlen_k) *
         static_cast<std::size_t>(p.shape.head_dim);
}

void backward(const Problem& p, const float* q, const float* k, const float* v, const float* o,
              const float* lse, const float* dout, float* dq, float* dk, float* dv,
              float* scores, float* dscores, float* partials, int threads) {
  const auto& s = p.shape;
  const i64 B = s.batch, Hq = s.heads_q, Hkv = s.heads_kv, Sq = s.seqlen_q, Sk = s.seqlen_k;
  const i64 D = s.head_dim, group = s.group();
  const float scale = static_cast<float>(p.softmax_scale);
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const auto [r0, r1] = row_block(Sq, t, n);
    // This thread's share of dK and dV of the current KV head, summed over its rows.
    float* pdk = partials + 2 * t * Sk * D;
    float* pdv = pdk + Sk * D;
    std::vector<std::pair<i64, i64>> ranges;
    for (i64 b = 0; b < B; ++b) {
      for (i64 kvh = 0; kvh < Hkv; ++kvh) {
        const float* kh = k + b * Sk * Hkv * D + kvh * D;
        const float* vh = v + b * Sk * Hkv * D + kvh * D;
        for (i64 g = 0; g < group; ++g) {
          const i64 h = kvh * group + g;
          const i64 off = (b * Sq + r0) * Hq * D + h * D;
          const float *qh = q + off, *oh = o + off, *doh = dout + off;
          const float* lh = lse + (b * Hq + h) * Sq;
          float* pblock = scores + r0 * Sk;
          float* dsblock = dscores + r0 * Sk;
          sgemm(false, true, r1 - r0, Sk, D, scale, qh, Hq * D, kh, Hkv * D, 0.0f, pblock, Sk);
          sgemm(false, true, r1 - r0, Sk, D, 1.0f, doh, Hq * D, vh, Hkv * D, 0.0f, dsblock, Sk);
          for (i64 i = r0; i < r1; ++i) {
            float* prow = scores + i * Sk;
            float* dsrow = dscores + i * Sk;
            if (lh[i] == kNegInf) {  // no allowed key: zero gradients
              for (i64 j = 0; j < Sk; ++j) prow[j] = dsrow[j] = 0.0f;
              continue;
            }
            const float* orow = oh + (i - r0) * Hq * D;
            const float* dorow = doh + (i - r0) * Hq * D;
            float delta = 0.0f;
            for (i64 c = 0; c < D; ++c) delta += dorow[c] * orow[c];
            mask_row(*p.mask, i, prow, Sk, ranges);
            exp_row(prow, Sk, lh[i]);
#pragma omp simd
            for (i64 j = 0; j < Sk; ++j) dsrow[j] = prow[j] * (dsrow[j] - delta) * scale;
          }
          // dQ = dS K; this thread's dV (+)= P^T dO and dK (+)= dS^T Q over its rows.
          const float beta = g == 0 ? 0.0f : 1.0f;
          sgemm(false, false, r1 - r0, D, Sk, 1.0f, dsblock, Sk, kh, Hkv * D, 0.0f,
                dq + off, Hq * D);
          sgemm(true, false, Sk, D, r1 - r0, 1.0f, pblock, Sk, doh, Hq * D, beta, pdv, D);
          sgemm(true, false, Sk, D, r1 - r0, 1.0f, dsblock, Sk, qh, Hq * D, beta, pdk, D);
        }
#pragma omp barrier
        // Sum the partials in thread order: deterministic for a given thread count.
#pragma omp for schedule(static)
        for (i64 j = 0; j < Sk; ++j) {
          float* dkr = dk + ((b * Sk + j) * Hkv + kvh) * D;
          float* dvr = dv + ((b * Sk + j) * Hkv + kvh) * D;
          for (i64 c = 0; c < D; ++c) dkr[c] = dvr[c] = 0.0f;
          for (int u = 0; u < n; ++u) {
            const float* udk = partials + 2 * u * Sk * D + j * D;
            const float* udv = udk + Sk * D;
            for (i64 c = 0; c < D; ++c) {
              dkr[c] += udk[c];
              dvr[c] += udv[c];
            }
          }
        }
      }
    }
  }
}

}  // namespace attnbench::cpu::math
