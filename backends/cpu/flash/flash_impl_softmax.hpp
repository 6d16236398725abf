// cpu.flash, masking and online softmax on the rows of a score tile (exp2 domain).
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
#pragma once

#include "flash_impl_gemm.hpp"

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

// ---------------------------------------------------------------------------
// Additive bias on raw scores (before the scale): bias(h, q, k) / scale, so that the kernels' later
// `score * scale` yields scale·q·k + bias. Masked entries are overwritten with -inf afterwards.
inline void add_score_bias(const ScoreBias& bias, i64 h, i64 q0, i64 mq, i64 k0, i64 nk, float inv_scale,
                           float* s, i64 ld) {
  if (bias.kind == 0) return;
  const i64 M = bias.max_distance;
  for (i64 r = 0; r < mq; ++r) {
    float* row = s + r * ld;
    const i64 base = k0 - (q0 + r + bias.offset);  // k - q' of the row's first key
    if (bias.kind == 1) {
      const float m = bias.slopes[h] * inv_scale;
      for (i64 j = 0; j < nk; ++j) row[j] -= m * static_cast<float>(base + j < 0 ? -(base + j) : base + j);
    } else {
      const float* t = bias.table + h * (2 * M + 1) + M;
      for (i64 j = 0; j < nk; ++j) {
        const i64 rel = base + j;
        row[j] += t[rel < -M ? -M : (rel > M ? M : rel)] * inv_scale;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Masking and softmax on one row of a score tile.

// Sets row[j] = -inf for keys k0 + j (j < nk) outside the row's allowed ranges.
inline void mask_row(float* row, const RowRanges& rr, i64 r, i64 k0, i64 nk) {
  i64 lo_i = rr.begin[r], hi_i = rr.begin[r + 1];
  // First range ending after k0 (ranges are sorted and disjoint).
  while (lo_i < hi_i) {
    const i64 mid = (lo_i + hi_i) / 2;
    if (rr.pairs[2 * mid + 1] <= k0)
      lo_i = mid + 1;
    else
      hi_i = mid;
  }
  i64 cursor = 0;
  for (i64 i = lo_i; i < rr.begin[r + 1]; ++i) {
    const i64 lo = rr.pairs[2 * i] - k0, hi = rr.pairs[2 * i + 1] - k0;
    if (lo >= nk) break;
    for (i64 j = cursor; j < lo; ++j) row[j] = kNegInf;
    cursor = imax(cursor, imin(hi, nk));
  }
  for (i64 j = cursor; j < nk; ++j) row[j] = kNegInf;
}

// Scores -> exp2 domain: row[j] = row[j] * c + shift for j < nkw, then masked
// entries and the padding j in [nk, nkw) become -inf. Returns the row maximum.
inline float scale_mask_max(float* row, i64 nk, i64 nkw, float c, float shift, const RowRanges* rr, i64 r,
                            i64 k0) {
  const V cv = Simd::set1(c), sv = Simd::set1(shift);
  if (rr == nullptr && nk == nkw) {
    V mx = Simd::set1(kNegInf);
    for (i64 j = 0; j < nkw; j += W) {
      const V x = Simd::fma(Simd::load(row + j), cv, sv);
      Simd::store(row + j, x);
      mx = Simd::max(mx, x);
    }
    return Simd::hmax(mx);
  }
  for (i64 j = 0; j < nkw; j += W) Simd::store(row + j, Simd::fma(Simd::load(row + j), cv, sv));
  if (rr != nullptr) mask_row(row, *rr, r, k0, nk);
  for (i64 j = nk; j < nkw; ++j) row[j] = kNegInf;
  V mx = Simd::set1(kNegInf);
  for (i64 j = 0; j < nkw; j += W) mx = Simd::max(mx, Simd::load(row + j));
  return Simd::hmax(mx);
}

// row[j] = 2^(row[j] - m); returns the sum.
inline float exp2_row(float* row, i64 nkw, float m) {
  const V mv = Simd::set1(m);
  V sum = Simd::zero();
  for (i64 j = 0; j < nkw; j += W) {
    const V p = Simd::exp2(Simd::sub(Simd::load(row + j), mv));
    Simd::store(row + j, p);
    sum = Simd::add(sum, p);
  }
  return Simd::hsum(sum);
}

inline void zero_floats(float* p, i64 n) { memset(p, 0, static_cast<size_t>(n) * sizeof(float)); }

// The online-softmax step of one score tile (rows kTileK apart, already Q K^T):
// scores become P = 2^(s*c - m_new), alpha = 2^(m_old - m_new) rescales the
// output rows, l accumulates the row sums. rr == nullptr: no masked entry.
inline void online_softmax_tile(float* scores, i64 mq, i64 nk, float c, const RowRanges* rr, i64 k0_global,
                                float* m, float* l, float* alpha) {
  const i64 nkw = round_up(nk, W);
  for (i64 r = 0; r < mq; ++r) {
    float* row = scores + r * kTileK;
    const float mx = scale_mask_max(row, nk, nkw, c, 0.0f, rr, r, k0_global);
    const float m_new = fmax2(m[r], mx);
    if (m_new == kNegInf) {  // nothing allowed in this row so far
      alpha[r] = 1.0f;
      zero_floats(row, nkw);
      continue;
    }
    alpha[r] = exp2f(m[r] - m_new);
    l[r] = l[r] * alpha[r] + exp2_row(row, nkw, m_new);
    m[r] = m_new;
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
