// The FlashAttention-2 algorithm on the CPU, written once over a SIMD traits class `Simd`.
//
// Included by exactly one translation unit per ISA, after that ISA's traits and
// with ATTNBENCH_FLASH_NS naming its namespace, so every function here is a
// distinct symbol per ISA (no inline function is shared between the variants).
// No standard-library templates are used on purpose, for the same reason.
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "flash_kernel.hpp"

#ifndef ATTNBENCH_FLASH_NS
#error "define ATTNBENCH_FLASH_NS before including flash_impl.hpp"
#endif

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

using i64 = std::int64_t;
using V = Simd::V;

constexpr int W = Simd::W;
constexpr int MR = Simd::MR;
constexpr i64 NR = static_cast<i64>(Simd::NV) * Simd::W;  // micro-tile columns
// Block-map tiles: queries per tile (a multiple of MR) and keys per tile (a multiple of NR).
constexpr i64 kTileQ = 96;
constexpr i64 kTileK = 64;
static_assert(kTileQ % MR == 0 && kTileK % NR == 0, "tile sizes must fit the micro-tile");

constexpr float kLog2e = 1.44269504088896340736f;
constexpr float kLn2 = 0.69314718055994530942f;
constexpr float kNegInf = -__builtin_inff();

inline i64 imin(i64 a, i64 b) { return a < b ? a : b; }
inline i64 imax(i64 a, i64 b) { return a > b ? a : b; }
inline i64 round_up(i64 a, i64 m) { return (a + m - 1) / m * m; }
inline float fmax2(float a, float b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------
// GEMM micro-kernel: C[rows x NR] (op)= A[rows x K] * B[K x NR], accumulators in
// registers. A is read by broadcasts, either by rows (a(r,p) = A[r*lda + p]) or
// by columns (a(r,p) = A[p*lda + r], i.e. the transpose of a row-major matrix).

enum class Acc { set, add, scale_add };  // C = AB, C += AB, C = diag(s) C + AB

template <int R, bool ACols, Acc mode>
inline void micro(i64 K, const float* __restrict A, i64 lda, const float* __restrict B, i64 ldb,
                  float* __restrict C, i64 ldc, const float* __restrict row_scale) {
  constexpr int NV = Simd::NV;
  V acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      if constexpr (mode == Acc::set) {
        acc[r][v] = Simd::zero();
      } else if constexpr (mode == Acc::add) {
        acc[r][v] = Simd::load(C + r * ldc + v * W);
      } else {
        acc[r][v] = Simd::mul(Simd::set1(row_scale[r]), Simd::load(C + r * ldc + v * W));
      }
    }
  }
#pragma GCC unroll 4
  for (i64 p = 0; p < K; ++p) {
    V b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = Simd::load(B + p * ldb + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const V a = Simd::bcast(ACols ? A + p * lda + r : A + r * lda + p);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = Simd::fma(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) Simd::store(C + r * ldc + v * W, acc[r][v]);
  }
}

template <int R, bool ACols, Acc mode>
inline void micro_tail(i64 rows, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C,
                       i64 ldc, const float* row_scale) {
  if constexpr (R > 0) {
    if (rows == R)
      micro<R, ACols, mode>(K, A, lda, B, ldb, C, ldc, row_scale);
    else
      micro_tail<R - 1, ACols, mode>(rows, K, A, lda, B, ldb, C, ldc, row_scale);
  }
}

// C[M x N] (op)= A[M x K] * B[K x N] with N a multiple of NR. The j-th block of
// NR columns of B starts at B + j * b_step with rows ldb apart: a packed panel
// has ldb = NR, b_step = K * NR; plain rows have ldb = ld, b_step = NR.
template <bool ACols, Acc mode>
void gemm(i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, i64 b_step,
          float* C, i64 ldc, const float* row_scale) {
  for (i64 n = 0; n < N; n += NR) {
    const float* Bn = B + (n / NR) * b_step;
    i64 r = 0;
    for (; r + MR <= M; r += MR)
      micro<MR, ACols, mode>(K, ACols ? A + r : A + r * lda, lda, Bn, ldb, C + r * ldc + n, ldc,
                             mode == Acc::scale_add ? row_scale + r : nullptr);
    if (r < M)
      micro_tail<MR - 1, ACols, mode>(M - r, K, ACols ? A + r : A + r * lda, lda, Bn, ldb,
                                      C + r * ldc + n, ldc,
                                      mode == Acc::scale_add ? row_scale + r : nullptr);
  }
}

// ---------------------------------------------------------------------------
// Tensor views and workspace layout.

// Rows of one (batch, head): row i at base + b*batch_stride + h*head_stride + i*ld.
struct Rows {
  const float* base = nullptr;
  i64 batch_stride = 0, head_stride = 0, ld = 0;
  const float* at(i64 b, i64 h, i64 i) const {
    return base + b * batch_stride + h * head_stride + i * ld;
  }
};

inline Rows original_rows(const float* p, i64 S, i64 H, i64 D) { return {p, S * H * D, D, H * D}; }
inline Rows padded_rows(const float* p, i64 S, i64 H, i64 Dp) { return {p, H * S * Dp, S * Dp, Dp}; }

// Carves 64-byte aligned arrays out of the workspace; with a null base it only
// measures, so the workspace size and the layout come from the same code.
struct Bump {
  float* base = nullptr;
  i64 used = 0;
  float* take(i64 n) {
    float* p = base ? base + used : nullptr;
    used += round_up(n > 0 ? n : 1, 16);
    return p;
  }
};

inline i64 padded_dim(i64 D) { return round_up(D, NR); }
inline i64 key_panels(i64 Sk) { return (Sk + NR - 1) / NR; }

// K (or V) of every (batch, kv head) as panels of NR keys, each [D][NR], zero past Sk:
// the B operand of Q K^T (and dO V^T) read with unit stride.
inline void pack_panels(const float* src, const Geometry& g, float* dst, int threads) {
  const i64 D = g.head_dim, Hkv = g.heads_kv, Sk = g.seqlen_k, panels = key_panels(Sk);
  const i64 total = g.batch * Hkv * panels;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 item = 0; item < total; ++item) {
    const i64 t = item % panels, bh = item / panels, b = bh / Hkv, h = bh % Hkv;
    float* out = dst + item * D * NR;
    for (i64 j = 0; j < NR; ++j) {
      const i64 key = t * NR + j;
      if (key < Sk) {
        const float* in = src + ((b * Sk + key) * Hkv + h) * D;
        for (i64 d = 0; d < D; ++d) out[d * NR + j] = in[d];
      } else {
        for (i64 d = 0; d < D; ++d) out[d * NR + j] = 0.0f;
      }
    }
  }
}

// [B, S, H, D] -> [B, H, S, Dp] with zero columns D..Dp, so NR-wide loads stay in bounds.
inline void pad_rows(const float* src, i64 B, i64 S, i64 H, i64 D, float* dst, int threads) {
  const i64 Dp = padded_dim(D), total = B * H * S;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 item = 0; item < total; ++item) {
    const i64 i = item % S, bh = item / S, b = bh / H, h = bh % H;
    const float* in = src + ((b * S + i) * H + h) * D;
    float* out = dst + item * Dp;
    for (i64 d = 0; d < D; ++d) out[d] = in[d];
    for (i64 d = D; d < Dp; ++d) out[d] = 0.0f;
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
inline float scale_mask_max(float* row, i64 nk, i64 nkw, float c, float shift, const RowRanges* rr,
                            i64 r, i64 k0) {
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

// ---------------------------------------------------------------------------
// Forward.

struct ForwardLayout {
  i64 Dp = 0;
  bool pad = false;
  float* k_panels = nullptr;
  float* v_padded = nullptr;
  Bump bump;
  i64 thread_floats = 0;
  float* threads_base = nullptr;

  ForwardLayout(const Geometry& g, float* ws, int threads) {
    Dp = padded_dim(g.head_dim);
    pad = Dp != g.head_dim;
    bump.base = ws;
    k_panels = bump.take(g.batch * g.heads_kv * key_panels(g.seqlen_k) * NR * g.head_dim);
    if (pad) v_padded = bump.take(g.batch * g.heads_kv * g.seqlen_k * Dp);
    Bump t;
    scratch(t);
    thread_floats = t.used;
    threads_base = bump.take(thread_floats * threads);
  }
  struct Scratch {
    float *s = nullptr, *o = nullptr, *m = nullptr, *l = nullptr, *alpha = nullptr;
  };
  Scratch scratch(Bump& t) const {
    Scratch s;
    s.s = t.take(kTileQ * kTileK);
    s.o = t.take(kTileQ * Dp);
    s.m = t.take(kTileQ);
    s.l = t.take(kTileQ);
    s.alpha = t.take(kTileQ);
    return s;
  }
  Scratch for_thread(int id) const {
    Bump t{threads_base + id * thread_floats, 0};
    return scratch(t);
  }
};

inline std::size_t forward_workspace(const Geometry& g, int threads) {
  return static_cast<std::size_t>(ForwardLayout(g, nullptr, threads).bump.used);
}

// One (batch, query head, query tile): online softmax over the tile's non-empty key tiles.
inline void forward_item(const ForwardArgs& a, const ForwardLayout& L, const Rows& vrows, i64 b,
                         i64 h, i64 qt, const ForwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = a.map;
  const i64 D = g.head_dim, Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kvh = h / (Hq / g.heads_kv);
  const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
  const float c = static_cast<float>(g.softmax_scale) * kLog2e;
  const float* qrows = a.q + ((b * Sq + q0) * Hq + h) * D;
  const float* panels = L.k_panels + (b * g.heads_kv + kvh) * key_panels(Sk) * NR * D;

  zero_floats(s.o, mq * Dp);
  for (i64 r = 0; r < mq; ++r) {
    s.m[r] = kNegInf;
    s.l[r] = 0.0f;
  }
  RowRanges ranges{};
  bool have_ranges = false;
  for (i64 idx = map.row_begin[qt]; idx < map.row_begin[qt + 1]; ++idx) {
    const i64 kt = map.cols[idx];
    const bool full = map.row_full[idx] != 0;
    const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
    const i64 nkp = round_up(nk, NR), nkw = round_up(nk, W);
    gemm<false, Acc::set>(mq, nkp, D, qrows, Hq * D, panels + (k0 / NR) * D * NR, NR, D * NR, s.s,
                          kTileK, nullptr);
    if (!full && !have_ranges) {
      ranges = a.mask.fetch(a.mask.context, a.mask.q_origin + q0, mq);
      have_ranges = true;
    }
    for (i64 r = 0; r < mq; ++r) {
      float* row = s.s + r * kTileK;
      const float mx = scale_mask_max(row, nk, nkw, c, 0.0f, full ? nullptr : &ranges, r,
                                      a.mask.k_origin + k0);
      const float m_new = fmax2(s.m[r], mx);
      if (m_new == kNegInf) {  // nothing allowed in this row so far
        s.alpha[r] = 1.0f;
        zero_floats(row, nkw);
        continue;
      }
      s.alpha[r] = exp2f(s.m[r] - m_new);
      s.l[r] = s.l[r] * s.alpha[r] + exp2_row(row, nkw, m_new);
      s.m[r] = m_new;
    }
    gemm<false, Acc::scale_add>(mq, Dp, nk, s.s, kTileK, vrows.at(b, kvh, k0), vrows.ld, NR, s.o,
                                Dp, s.alpha);
  }
  for (i64 r = 0; r < mq; ++r) {
    float* out = a.o + ((b * Sq + q0 + r) * Hq + h) * D;
    float* lse = a.lse + (b * Hq + h) * Sq + q0 + r;
    if (s.l[r] == 0.0f) {
      zero_floats(out, D);
      *lse = kNegInf;
      continue;
    }
    const float inv = 1.0f / s.l[r];
    for (i64 d = 0; d < D; ++d) out[d] = s.o[r * Dp + d] * inv;
    *lse = s.m[r] * kLn2 + logf(s.l[r]);
  }
}

inline void forward(const ForwardArgs& a) {
  const Geometry& g = a.geometry;
  const int T = a.threads > 0 ? a.threads : 1;
  const ForwardLayout L(g, a.workspace, T);
  pack_panels(a.k, g, L.k_panels, T);
  Rows vrows = original_rows(a.v, g.seqlen_k, g.heads_kv, g.head_dim);
  if (L.pad) {
    pad_rows(a.v, g.batch, g.seqlen_k, g.heads_kv, g.head_dim, L.v_padded, T);
    vrows = padded_rows(L.v_padded, g.seqlen_k, g.heads_kv, L.Dp);
  }
  const i64 heads = g.batch * g.heads_q, items = a.map.q_tiles * heads;
#pragma omp parallel num_threads(T)
  {
    const ForwardLayout::Scratch s = L.for_thread(omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < items; ++item) {
      const i64 qt = a.map.q_order[item / heads], bh = item % heads;
      forward_item(a, L, vrows, bh / g.heads_q, bh % g.heads_q, qt, s);
    }
  }
}

// ---------------------------------------------------------------------------
// Backward (FA2): dK/dV per key tile, then dQ per query tile; P and dS are
// recomputed from the saved LSE in both passes, so no two work items write the
// same output and the result does not depend on the schedule.

struct BackwardLayout {
  i64 Dp = 0;
  bool pad = false;
  float *k_panels = nullptr, *v_panels = nullptr;
  float *q_padded = nullptr, *k_padded = nullptr, *do_padded = nullptr;
  float* delta = nullptr;  // rowsum(dO * O), [B, Hq, Sq]
  Bump bump;
  i64 thread_floats = 0;
  float* threads_base = nullptr;

  BackwardLayout(const Geometry& g, float* ws, int threads) {
    Dp = padded_dim(g.head_dim);
    pad = Dp != g.head_dim;
    bump.base = ws;
    const i64 kv_panels = g.batch * g.heads_kv * key_panels(g.seqlen_k) * NR * g.head_dim;
    k_panels = bump.take(kv_panels);
    v_panels = bump.take(kv_panels);
    if (pad) {
      q_padded = bump.take(g.batch * g.heads_q * g.seqlen_q * Dp);
      do_padded = bump.take(g.batch * g.heads_q * g.seqlen_q * Dp);
      k_padded = bump.take(g.batch * g.heads_kv * g.seqlen_k * Dp);
    }
    delta = bump.take(g.batch * g.heads_q * g.seqlen_q);
    Bump t;
    scratch(t);
    thread_floats = t.used;
    threads_base = bump.take(thread_floats * threads);
  }
  struct Scratch {
    float *p = nullptr, *ds = nullptr, *dk = nullptr, *dv = nullptr, *dq = nullptr;
  };
  Scratch scratch(Bump& t) const {
    Scratch s;
    s.p = t.take(kTileQ * kTileK);
    s.ds = t.take(kTileQ * kTileK);
    s.dk = t.take(kTileK * Dp);
    s.dv = t.take(kTileK * Dp);
    s.dq = t.take(kTileQ * Dp);
    return s;
  }
  Scratch for_thread(int id) const {
    Bump t{threads_base + id * thread_floats, 0};
    return scratch(t);
  }
};

inline std::size_t backward_workspace(const Geometry& g, int threads) {
  return static_cast<std::size_t>(BackwardLayout(g, nullptr, threads).bump.used);
}

struct BackwardViews {
  Rows q, k, dout;  // B operands, NR-wide rows
};

// P and dS of one (query tile, key tile) pair for query head h:
// p = exp(s * scale - lse) (masked), ds = scale * p * (dP - delta).
inline void probs_and_dscores(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 h,
                              i64 q0, i64 mq, i64 k0, i64 nk, bool full,
                              const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const i64 D = g.head_dim, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kvh = h / (Hq / g.heads_kv);
  const i64 nkp = round_up(nk, NR), nkw = round_up(nk, W);
  const float scale = static_cast<float>(g.softmax_scale), c = scale * kLog2e;
  const i64 panel_off = (b * g.heads_kv + kvh) * key_panels(Sk) * NR * D + (k0 / NR) * D * NR;
  const float* qrows = a.q + ((b * Sq + q0) * Hq + h) * D;
  const float* drows = a.dout + ((b * Sq + q0) * Hq + h) * D;
  gemm<false, Acc::set>(mq, nkp, D, qrows, Hq * D, L.k_panels + panel_off, NR, D * NR, s.p, kTileK,
                        nullptr);
  gemm<false, Acc::set>(mq, nkp, D, drows, Hq * D, L.v_panels + panel_off, NR, D * NR, s.ds,
                        kTileK, nullptr);
  RowRanges ranges{};
  if (!full) ranges = a.mask.fetch(a.mask.context, a.mask.q_origin + q0, mq);
  const float* lse = a.lse + (b * Hq + h) * Sq + q0;
  const float* delta = L.delta + (b * Hq + h) * Sq + q0;
  const V sv = Simd::set1(scale);
  for (i64 r = 0; r < mq; ++r) {
    float* prow = s.p + r * kTileK;
    float* dsrow = s.ds + r * kTileK;
    if (lse[r] == kNegInf) {  // a row with no allowed key has zero gradients
      zero_floats(prow, nkw);
      zero_floats(dsrow, nkw);
      continue;
    }
    scale_mask_max(prow, nk, nkw, c, -lse[r] * kLog2e, full ? nullptr : &ranges, r,
                   a.mask.k_origin + k0);
    const V dv = Simd::set1(delta[r]);
    for (i64 j = 0; j < nkw; j += W) {
      const V p = Simd::exp2(Simd::load(prow + j));
      Simd::store(prow + j, p);
      Simd::store(dsrow + j, Simd::mul(Simd::mul(p, sv), Simd::sub(Simd::load(dsrow + j), dv)));
    }
  }
}

inline void backward_dkdv_item(const BackwardArgs& a, const BackwardLayout& L,
                               const BackwardViews& views, i64 b, i64 kvh, i64 kt,
                               const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = a.map;
  const i64 D = g.head_dim, Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hkv = g.heads_kv;
  const i64 group = g.heads_q / Hkv;
  const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
  zero_floats(s.dk, kTileK * Dp);
  zero_floats(s.dv, kTileK * Dp);
  for (i64 gi = 0; gi < group; ++gi) {
    const i64 h = kvh * group + gi;
    for (i64 idx = map.col_begin[kt]; idx < map.col_begin[kt + 1]; ++idx) {
      const i64 qt = map.rows[idx];
      const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
      probs_and_dscores(a, L, b, h, q0, mq, k0, nk, map.col_full[idx] != 0, s);
      // dV += P^T dO and dK += dS^T Q: the score tiles are read transposed.
      gemm<true, Acc::add>(nk, Dp, mq, s.p, kTileK, views.dout.at(b, h, q0), views.dout.ld, NR,
                           s.dv, Dp, nullptr);
      gemm<true, Acc::add>(nk, Dp, mq, s.ds, kTileK, views.q.at(b, h, q0), views.q.ld, NR, s.dk,
                           Dp, nullptr);
    }
  }
  for (i64 j = 0; j < nk; ++j) {
    float* dk = a.dk + ((b * Sk + k0 + j) * Hkv + kvh) * D;
    float* dv = a.dv + ((b * Sk + k0 + j) * Hkv + kvh) * D;
    for (i64 d = 0; d < D; ++d) {
      dk[d] = s.dk[j * Dp + d];
      dv[d] = s.dv[j * Dp + d];
    }
  }
}

inline void backward_dq_item(const BackwardArgs& a, const BackwardLayout& L,
                             const BackwardViews& views, i64 b, i64 h, i64 qt,
                             const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = a.map;
  const i64 D = g.head_dim, Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kvh = h / (Hq / g.heads_kv);
  const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
  zero_floats(s.dq, kTileQ * Dp);
  for (i64 idx = map.row_begin[qt]; idx < map.row_begin[qt + 1]; ++idx) {
    const i64 kt = map.cols[idx];
    const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
    probs_and_dscores(a, L, b, h, q0, mq, k0, nk, map.row_full[idx] != 0, s);
    gemm<false, Acc::add>(mq, Dp, nk, s.ds, kTileK, views.k.at(b, kvh, k0), views.k.ld, NR, s.dq,
                          Dp, nullptr);
  }
  for (i64 r = 0; r < mq; ++r) {
    float* dq = a.dq + ((b * Sq + q0 + r) * Hq + h) * D;
    for (i64 d = 0; d < D; ++d) dq[d] = s.dq[r * Dp + d];
  }
}

inline void backward(const BackwardArgs& a) {
  const Geometry& g = a.geometry;
  const int T = a.threads > 0 ? a.threads : 1;
  const BackwardLayout L(g, a.workspace, T);
  const i64 D = g.head_dim, B = g.batch, Hq = g.heads_q, Hkv = g.heads_kv;
  const i64 Sq = g.seqlen_q, Sk = g.seqlen_k;

  pack_panels(a.k, g, L.k_panels, T);
  pack_panels(a.v, g, L.v_panels, T);
  BackwardViews views{original_rows(a.q, Sq, Hq, D), original_rows(a.k, Sk, Hkv, D),
                      original_rows(a.dout, Sq, Hq, D)};
  if (L.pad) {
    pad_rows(a.q, B, Sq, Hq, D, L.q_padded, T);
    pad_rows(a.k, B, Sk, Hkv, D, L.k_padded, T);
    pad_rows(a.dout, B, Sq, Hq, D, L.do_padded, T);
    views = {padded_rows(L.q_padded, Sq, Hq, L.Dp), padded_rows(L.k_padded, Sk, Hkv, L.Dp),
             padded_rows(L.do_padded, Sq, Hq, L.Dp)};
  }
  const i64 rows = B * Sq * Hq;
#pragma omp parallel for num_threads(T) schedule(static)
  for (i64 item = 0; item < rows; ++item) {
    const i64 h = item % Hq, bi = item / Hq, b = bi / Sq, i = bi % Sq;
    const float* o = a.o + item * D;
    const float* d_o = a.dout + item * D;
    float sum = 0.0f;
    for (i64 d = 0; d < D; ++d) sum += o[d] * d_o[d];
    L.delta[(b * Hq + h) * Sq + i] = sum;
  }

  const i64 kv_heads = B * Hkv, k_items = a.map.k_tiles * kv_heads;
  const i64 q_heads = B * Hq, q_items = a.map.q_tiles * q_heads;
#pragma omp parallel num_threads(T)
  {
    const BackwardLayout::Scratch s = L.for_thread(omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < k_items; ++item) {
      const i64 kt = a.map.k_order[item / kv_heads], bh = item % kv_heads;
      backward_dkdv_item(a, L, views, bh / Hkv, bh % Hkv, kt, s);
    }
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < q_items; ++item) {
      const i64 qt = a.map.q_order[item / q_heads], bh = item % q_heads;
      backward_dq_item(a, L, views, bh / Hq, bh % Hq, qt, s);
    }
  }
}

inline KernelSet make_kernel_set(const char* isa) {
  KernelSet set{};
  set.isa = isa;
  set.tile_q = kTileQ;
  set.tile_k = kTileK;
  set.forward_workspace = &forward_workspace;
  set.backward_workspace = &backward_workspace;
  set.forward = &forward;
  set.backward = &backward;
  return set;
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
