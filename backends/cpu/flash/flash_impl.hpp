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

// How gemm() reads A: by rows (a(r,p) = A[r*lda + p]), by columns (the transpose
// of a row-major tile, a(r,p) = A[p*lda + r]), or packed in panels of MR rows,
// each [K][MR] (one unit-stride stream of broadcasts).
enum class AMode { rows, cols, panels };

// C[M x N] (op)= A[M x K] * B[K x N] with N a multiple of NR. The j-th block of
// NR columns of B starts at B + j * b_step with rows ldb apart: packed key panels
// have ldb = NR, b_step = K * NR; column panels ldb = NR, b_step = rows * NR.
template <AMode amode, Acc mode>
void gemm(i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, i64 b_step,
          float* C, i64 ldc, const float* row_scale) {
  constexpr bool cols = amode != AMode::rows;
  if constexpr (amode == AMode::panels) lda = MR;
  for (i64 n = 0; n < N; n += NR) {
    const float* Bn = B + (n / NR) * b_step;
    i64 r = 0;
    for (; r + MR <= M; r += MR) {
      const float* Ar = amode == AMode::rows ? A + r * lda : amode == AMode::cols ? A + r : A + r * K;
      micro<MR, cols, mode>(K, Ar, lda, Bn, ldb, C + r * ldc + n, ldc,
                            mode == Acc::scale_add ? row_scale + r : nullptr);
    }
    if (r < M) {
      const float* Ar = amode == AMode::rows ? A + r * lda : amode == AMode::cols ? A + r : A + r * K;
      micro_tail<MR - 1, cols, mode>(M - r, K, Ar, lda, Bn, ldb, C + r * ldc + n, ldc,
                                     mode == Acc::scale_add ? row_scale + r : nullptr);
    }
  }
}

// ---------------------------------------------------------------------------
// Tensor views and workspace layout.

// A packed copy of a [B, S, H, D] tensor, per (batch, head).
struct Packed {
  float* base = nullptr;
  i64 batch_stride = 0, head_stride = 0;
  float* at(i64 b, i64 h) const { return base + b * batch_stride + h * head_stride; }
};

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
  Packed take_packed(i64 B, i64 H, i64 per_head) {
    float* p = take(B * H * per_head);
    return {p, H * per_head, per_head};
  }
};

inline i64 padded_dim(i64 D) { return round_up(D, NR); }
inline i64 key_panels(i64 S) { return (S + NR - 1) / NR; }
inline i64 row_groups(i64 S) { return (S + MR - 1) / MR; }

// The three packed forms, each padded with zeros so that every load stays in bounds:
//  key panels   [ceil(S/NR)][D][NR]: X^T as the B operand (Q K^T, dO V^T);
//  column panels [Dp/NR][S][NR]:     X as the B operand with N = D (P V, dS K, ...);
//  row panels   [ceil(S/MR)][D][MR]: X as the A operand (broadcast stream).
inline i64 key_panels_size(i64 S, i64 D) { return key_panels(S) * NR * D; }
inline i64 column_panels_size(i64 S, i64 D) { return padded_dim(D) * S; }
inline i64 row_panels_size(i64 S, i64 D) { return row_groups(S) * MR * D; }

enum class Form { key_panels, column_panels, row_panels };

// Packs src [B, S, H, D] into `form` for every (batch, head), in parallel.
inline void pack(const float* src, i64 B, i64 S, i64 H, i64 D, Form form, const Packed& dst,
                 int threads) {
  const i64 Dp = padded_dim(D);
  const i64 units = form == Form::key_panels ? key_panels(S)
                    : form == Form::row_panels ? row_groups(S)
                                               : Dp / NR;
  const i64 total = B * H * units;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 item = 0; item < total; ++item) {
    const i64 u = item % units, bh = item / units, b = bh / H, h = bh % H;
    float* head = dst.at(b, h);
    const float* in = src + b * S * H * D + h * D;  // row i at in + i * H * D
    if (form == Form::key_panels || form == Form::row_panels) {
      const i64 width = form == Form::key_panels ? NR : MR;
      float* out = head + u * width * D;
      for (i64 j = 0; j < width; ++j) {
        const i64 i = u * width + j;
        if (i < S) {
          for (i64 d = 0; d < D; ++d) out[d * width + j] = in[i * H * D + d];
        } else {
          for (i64 d = 0; d < D; ++d) out[d * width + j] = 0.0f;
        }
      }
    } else {
      float* out = head + u * S * NR;
      const i64 d0 = u * NR, dn = imin(NR, D - d0);
      for (i64 i = 0; i < S; ++i) {
        for (i64 c = 0; c < dn; ++c) out[i * NR + c] = in[i * H * D + d0 + c];
        for (i64 c = dn; c < NR; ++c) out[i * NR + c] = 0.0f;
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
  Packed q_rows, k_keys, v_cols;  // Q as A operand, K^T and V as B operands
  Bump bump;
  i64 thread_floats = 0;
  float* threads_base = nullptr;

  ForwardLayout(const Geometry& g, float* ws, int threads) {
    const i64 B = g.batch, D = g.head_dim;
    Dp = padded_dim(D);
    bump.base = ws;
    q_rows = bump.take_packed(B, g.heads_q, row_panels_size(g.seqlen_q, D));
    k_keys = bump.take_packed(B, g.heads_kv, key_panels_size(g.seqlen_k, D));
    v_cols = bump.take_packed(B, g.heads_kv, column_panels_size(g.seqlen_k, D));
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

// The online-softmax step of one score tile (rows kTileK apart, already Q K^T):
// scores become P = 2^(s*c - m_new), alpha = 2^(m_old - m_new) rescales the
// output rows, l accumulates the row sums. rr == nullptr: no masked entry.
inline void online_softmax_tile(float* scores, i64 mq, i64 nk, float c, const RowRanges* rr,
                                i64 k0_global, float* m, float* l, float* alpha) {
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

// One (batch, query head, query tile): online softmax over the tile's non-empty key tiles.
inline void forward_item(const ForwardArgs& a, const ForwardLayout& L, i64 b, i64 h, i64 qt,
                         const ForwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = a.map;
  const i64 D = g.head_dim, Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kvh = h / (Hq / g.heads_kv);
  const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
  const float c = static_cast<float>(g.softmax_scale) * kLog2e;
  const float* qa = L.q_rows.at(b, h) + q0 * D;
  const float* kb = L.k_keys.at(b, kvh);
  const float* vb = L.v_cols.at(b, kvh);

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
    const i64 nkp = round_up(nk, NR);
    gemm<AMode::panels, Acc::set>(mq, nkp, D, qa, MR, kb + k0 * D, NR, D * NR, s.s, kTileK,
                                  nullptr);
    if (!full && !have_ranges) {
      ranges = a.mask.fetch(a.mask.context, a.mask.q_origin + q0, mq);
      have_ranges = true;
    }
    online_softmax_tile(s.s, mq, nk, c, full ? nullptr : &ranges, a.mask.k_origin + k0, s.m, s.l,
                        s.alpha);
    gemm<AMode::rows, Acc::scale_add>(mq, Dp, nk, s.s, kTileK, vb + k0 * NR, NR, Sk * NR, s.o, Dp,
                                      s.alpha);
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
  const i64 B = g.batch, D = g.head_dim;
  pack(a.q, B, g.seqlen_q, g.heads_q, D, Form::row_panels, L.q_rows, T);
  pack(a.k, B, g.seqlen_k, g.heads_kv, D, Form::key_panels, L.k_keys, T);
  pack(a.v, B, g.seqlen_k, g.heads_kv, D, Form::column_panels, L.v_cols, T);
  const i64 heads = B * g.heads_q, items = a.map.q_tiles * heads;
#pragma omp parallel num_threads(T)
  {
    const ForwardLayout::Scratch s = L.for_thread(omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < items; ++item) {
      const i64 qt = a.map.q_order[item / heads], bh = item % heads;
      forward_item(a, L, bh / g.heads_q, bh % g.heads_q, qt, s);
    }
  }
}

// ---------------------------------------------------------------------------
// Backward (FA2): dK/dV per key tile, then dQ per query tile; P and dS are
// recomputed from the saved LSE in both passes, so no two work items write the
// same output and the result does not depend on the schedule.

struct BackwardLayout {
  i64 Dp = 0;
  Packed q_rows, do_rows;           // A operands of S = Q K^T and dP = dO V^T
  Packed k_keys, v_keys;            // their B operands
  Packed q_cols, do_cols, k_cols;   // B operands of dK += dS^T Q, dV += P^T dO, dQ += dS K
  float* delta = nullptr;           // rowsum(dO * O), [B, Hq, Sq]
  Bump bump;
  i64 thread_floats = 0;
  float* threads_base = nullptr;

  BackwardLayout(const Geometry& g, float* ws, int threads) {
    const i64 B = g.batch, D = g.head_dim, Hq = g.heads_q, Hkv = g.heads_kv;
    const i64 Sq = g.seqlen_q, Sk = g.seqlen_k;
    Dp = padded_dim(D);
    bump.base = ws;
    q_rows = bump.take_packed(B, Hq, row_panels_size(Sq, D));
    do_rows = bump.take_packed(B, Hq, row_panels_size(Sq, D));
    k_keys = bump.take_packed(B, Hkv, key_panels_size(Sk, D));
    v_keys = bump.take_packed(B, Hkv, key_panels_size(Sk, D));
    q_cols = bump.take_packed(B, Hq, column_panels_size(Sq, D));
    do_cols = bump.take_packed(B, Hq, column_panels_size(Sq, D));
    k_cols = bump.take_packed(B, Hkv, column_panels_size(Sk, D));
    delta = bump.take(B * Hq * Sq);
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

// P and dS of one (query tile, key tile) pair for query head h:
// p = exp(s * scale - lse) (masked), ds = scale * p * (dP - delta).
inline void probs_and_dscores(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 h,
                              i64 q0, i64 mq, i64 k0, i64 nk, bool full,
                              const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const i64 D = g.head_dim, Sq = g.seqlen_q, Hq = g.heads_q;
  const i64 kvh = h / (Hq / g.heads_kv);
  const i64 nkp = round_up(nk, NR), nkw = round_up(nk, W);
  const float scale = static_cast<float>(g.softmax_scale), c = scale * kLog2e;
  gemm<AMode::panels, Acc::set>(mq, nkp, D, L.q_rows.at(b, h) + q0 * D, MR,
                                L.k_keys.at(b, kvh) + k0 * D, NR, D * NR, s.p, kTileK, nullptr);
  gemm<AMode::panels, Acc::set>(mq, nkp, D, L.do_rows.at(b, h) + q0 * D, MR,
                                L.v_keys.at(b, kvh) + k0 * D, NR, D * NR, s.ds, kTileK, nullptr);
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

inline void backward_dkdv_item(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 kvh,
                               i64 kt, const BackwardLayout::Scratch& s) {
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
      gemm<AMode::cols, Acc::add>(nk, Dp, mq, s.p, kTileK, L.do_cols.at(b, h) + q0 * NR, NR,
                                  Sq * NR, s.dv, Dp, nullptr);
      gemm<AMode::cols, Acc::add>(nk, Dp, mq, s.ds, kTileK, L.q_cols.at(b, h) + q0 * NR, NR,
                                  Sq * NR, s.dk, Dp, nullptr);
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

inline void backward_dq_item(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 h, i64 qt,
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
    gemm<AMode::rows, Acc::add>(mq, Dp, nk, s.ds, kTileK, L.k_cols.at(b, kvh) + k0 * NR, NR,
                                Sk * NR, s.dq, Dp, nullptr);
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

  pack(a.q, B, Sq, Hq, D, Form::row_panels, L.q_rows, T);
  pack(a.dout, B, Sq, Hq, D, Form::row_panels, L.do_rows, T);
  pack(a.k, B, Sk, Hkv, D, Form::key_panels, L.k_keys, T);
  pack(a.v, B, Sk, Hkv, D, Form::key_panels, L.v_keys, T);
  pack(a.q, B, Sq, Hq, D, Form::column_panels, L.q_cols, T);
  pack(a.dout, B, Sq, Hq, D, Form::column_panels, L.do_cols, T);
  pack(a.k, B, Sk, Hkv, D, Form::column_panels, L.k_cols, T);
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
      backward_dkdv_item(a, L, bh / Hkv, bh % Hkv, kt, s);
    }
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < q_items; ++item) {
      const i64 qt = a.map.q_order[item / q_heads], bh = item % q_heads;
      backward_dq_item(a, L, bh / Hq, bh % Hq, qt, s);
    }
  }
}

// The inner pieces alone, on one full tile, for the micro-benchmarks.
inline void tile_scores(const float* q_rows, const float* k_keys, i64 head_dim, float* scores) {
  gemm<AMode::panels, Acc::set>(kTileQ, kTileK, head_dim, q_rows, MR, k_keys, NR, head_dim * NR,
                                scores, kTileK, nullptr);
}
inline void tile_softmax(float* scores, float scale, float* m, float* l, float* alpha) {
  online_softmax_tile(scores, kTileQ, kTileK, scale * kLog2e, nullptr, 0, m, l, alpha);
}
inline void tile_pv(const float* probs, const float* v_cols, i64 head_dim, const float* alpha,
                    float* o) {
  const i64 Dp = padded_dim(head_dim);
  gemm<AMode::rows, Acc::scale_add>(kTileQ, Dp, kTileK, probs, kTileK, v_cols, NR, kTileK * NR, o,
                                    Dp, alpha);
}

constexpr KernelSet make_kernel_set(const char* isa) {
  KernelSet set{};
  set.isa = isa;
  set.tile_q = kTileQ;
  set.tile_k = kTileK;
  set.forward_workspace = &forward_workspace;
  set.backward_workspace = &backward_workspace;
  set.forward = &forward;
  set.backward = &backward;
  set.tile_scores = &tile_scores;
  set.tile_softmax = &tile_softmax;
  set.tile_pv = &tile_pv;
  return set;
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
