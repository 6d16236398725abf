// cpu.flash, backward (FA2): dK/dV per key tile, then dQ per query tile, P and dS recomputed from LSE.
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
#pragma once

#include "flash_impl_softmax.hpp"

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

// ---------------------------------------------------------------------------
// Backward (FA2): dK/dV per key tile, then dQ per query tile; P and dS are
// recomputed from the saved LSE in both passes, so no two work items write the
// same output and the result does not depend on the schedule.

// The query heads of one dK/dV work item: whole groups of key heads and of value heads
// (the lcm of the two group sizes), so no two items write the same dK or dV row.
inline i64 gcd_of(i64 a, i64 b) {
  while (b != 0) {
    const i64 t = a % b;
    a = b;
    b = t;
  }
  return a;
}
inline i64 unit_heads(const Geometry& g) {
  const i64 gk = g.heads_q / g.heads_kv, gv = g.heads_q / value_heads(g);
  return gk / gcd_of(gk, gv) * gv;
}

struct BackwardLayout : ThreadScratch<BackwardLayout> {
  i64 Dp = 0, Dvp = 0;             // K's and V's head dims, padded
  i64 unit_k = 1, unit_v = 1;      // key and value heads of one dK/dV work item
  Packed q_rows, do_rows;          // A operands of S = Q K^T and dP = dO V^T
  Packed k_keys, v_keys;           // their B operands
  Packed q_cols, do_cols, k_cols;  // B operands of dK += dS^T Q, dV += P^T dO, dQ += dS K
  float* delta = nullptr;          // rowsum(dO * O), [B, Hq, Sq]
  Bump bump;

  BackwardLayout(const Geometry& g, float* ws, int threads) {
    const i64 B = g.batch, D = g.head_dim, Dv = value_dim(g), Hq = g.heads_q, Hkv = g.heads_kv;
    const i64 Hv = value_heads(g), Sq = g.seqlen_q, Sk = g.seqlen_k;
    Dp = padded_dim(D);
    Dvp = padded_dim(Dv);
    const i64 unit = unit_heads(g);
    unit_k = unit / (Hq / Hkv);
    unit_v = unit / (Hq / Hv);
    bump.base = ws;
    q_rows = bump.take_packed(B, Hq, row_panels_size(Sq, D));
    do_rows = bump.take_packed(B, Hq, row_panels_size(Sq, Dv));
    k_keys = bump.take_packed(B, Hkv, key_panels_size(Sk, D));
    v_keys = bump.take_packed(B, Hv, key_panels_size(Sk, Dv));
    q_cols = bump.take_packed(B, Hq, column_panels_size(Sq, D));
    do_cols = bump.take_packed(B, Hq, column_panels_size(Sq, Dv));
    k_cols = bump.take_packed(B, Hkv, column_panels_size(Sk, D));
    delta = bump.take(B * Hq * Sq);
    reserve_threads(bump, threads);
  }
  struct Scratch {
    float *p = nullptr, *ds = nullptr, *dk = nullptr, *dv = nullptr, *dq = nullptr;
  };
  Scratch scratch(Bump& t) const {
    Scratch s;
    s.p = t.take(kTileQ * kTileK);
    s.ds = t.take(kTileQ * kTileK);
    s.dk = t.take(unit_k * kTileK * Dp);
    s.dv = t.take(unit_v * kTileK * Dvp);
    s.dq = t.take(kTileQ * Dp);
    return s;
  }
};

inline std::size_t backward_workspace(const Geometry& g, int threads) {
  return workspace_of<BackwardLayout>(g, threads);
}

// P and dS of one (query tile, key tile) pair for query head h:
// p = exp(s * scale - lse) (masked), ds = scale * p * (dP - delta).
inline void probs_and_dscores(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 h, i64 q0, i64 mq,
                              i64 k0, i64 nk, bool full, const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const i64 D = g.head_dim, Dv = value_dim(g), Sq = g.seqlen_q, Hq = g.heads_q;
  const i64 kh = h / (Hq / g.heads_kv), vh = h / (Hq / value_heads(g));
  const i64 nkp = round_up(nk, NR), nkw = round_up(nk, W);
  const float scale = static_cast<float>(g.softmax_scale), c = scale * kLog2e;
  gemm<AMode::panels, Acc::set>(mq, nkp, D, L.q_rows.at(b, h) + q0 * D, MR, L.k_keys.at(b, kh) + k0 * D, NR,
                                D * NR, s.p, kTileK, nullptr);
  // P changes with the bias; dS's chain to q and k does not (the bias is constant in them).
  add_score_bias(a.bias, h, q0, mq, k0, nk, 1.0f / scale, s.p, kTileK);
  gemm<AMode::panels, Acc::set>(mq, nkp, Dv, L.do_rows.at(b, h) + q0 * Dv, MR, L.v_keys.at(b, vh) + k0 * Dv,
                                NR, Dv * NR, s.ds, kTileK, nullptr);
  const MaskSource& mask = mask_of(a, b, h);
  RowRanges ranges{};
  if (!full) ranges = mask.fetch(mask.context, mask.q_origin + q0, mq);
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
    scale_mask_max(prow, nk, nkw, c, -lse[r] * kLog2e, full ? nullptr : &ranges, r, mask.k_origin + k0);
    const V dv = Simd::set1(delta[r]);
    for (i64 j = 0; j < nkw; j += W) {
      const V p = Simd::exp2(Simd::load(prow + j));
      Simd::store(prow + j, p);
      Simd::store(dsrow + j, Simd::mul(Simd::mul(p, sv), Simd::sub(Simd::load(dsrow + j), dv)));
    }
  }
}

// dK and dV of one key tile for the key and value heads of one unit of query heads (unit_heads()).
inline void backward_dkdv_item(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 u, i64 kt,
                               const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const i64 D = g.head_dim, Dv = value_dim(g), Dp = L.Dp, Dvp = L.Dvp, Sq = g.seqlen_q, Sk = g.seqlen_k;
  const i64 Hq = g.heads_q, Hkv = g.heads_kv, Hv = value_heads(g);
  const i64 group_k = Hq / Hkv, group_v = Hq / Hv, unit = unit_heads(g);
  const i64 kh0 = u * L.unit_k, vh0 = u * L.unit_v;  // the unit's first key and value head
  const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
  zero_floats(s.dk, L.unit_k * kTileK * Dp);
  zero_floats(s.dv, L.unit_v * kTileK * Dvp);
  for (i64 h = u * unit; h < (u + 1) * unit; ++h) {
    float* dk_acc = s.dk + (h / group_k - kh0) * kTileK * Dp;
    float* dv_acc = s.dv + (h / group_v - vh0) * kTileK * Dvp;
    const TileMap& map = map_of(a, b, h);
    for (i64 idx = map.col_begin[kt]; idx < map.col_begin[kt + 1]; ++idx) {
      const i64 qt = map.rows[idx];
      const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
      probs_and_dscores(a, L, b, h, q0, mq, k0, nk, map.col_full[idx] != 0, s);
      // dV += P^T dO and dK += dS^T Q: the score tiles are read transposed.
      gemm<AMode::cols, Acc::add>(nk, Dvp, mq, s.p, kTileK, L.do_cols.at(b, h) + q0 * NR, NR, Sq * NR, dv_acc,
                                  Dvp, nullptr);
      gemm<AMode::cols, Acc::add>(nk, Dp, mq, s.ds, kTileK, L.q_cols.at(b, h) + q0 * NR, NR, Sq * NR, dk_acc,
                                  Dp, nullptr);
    }
  }
  for (i64 i = 0; i < L.unit_k; ++i)
    for (i64 j = 0; j < nk; ++j) {
      float* dk = a.dk + ((b * Sk + k0 + j) * Hkv + kh0 + i) * D;
      const float* acc = s.dk + (i * kTileK + j) * Dp;
      for (i64 d = 0; d < D; ++d) dk[d] = acc[d];
    }
  for (i64 i = 0; i < L.unit_v; ++i)
    for (i64 j = 0; j < nk; ++j) {
      float* dv = a.dv + ((b * Sk + k0 + j) * Hv + vh0 + i) * Dv;
      const float* acc = s.dv + (i * kTileK + j) * Dvp;
      for (i64 d = 0; d < Dv; ++d) dv[d] = acc[d];
    }
}

inline void backward_dq_item(const BackwardArgs& a, const BackwardLayout& L, i64 b, i64 h, i64 qt,
                             const BackwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = map_of(a, b, h);
  const i64 D = g.head_dim, Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kh = h / (Hq / g.heads_kv);
  const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
  zero_floats(s.dq, kTileQ * Dp);
  for (i64 idx = map.row_begin[qt]; idx < map.row_begin[qt + 1]; ++idx) {
    const i64 kt = map.cols[idx];
    const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
    probs_and_dscores(a, L, b, h, q0, mq, k0, nk, map.row_full[idx] != 0, s);
    gemm<AMode::rows, Acc::add>(mq, Dp, nk, s.ds, kTileK, L.k_cols.at(b, kh) + k0 * NR, NR, Sk * NR, s.dq, Dp,
                                nullptr);
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
  const i64 D = g.head_dim, Dv = value_dim(g), B = g.batch, Hq = g.heads_q, Hkv = g.heads_kv;
  const i64 Hv = value_heads(g), Sq = g.seqlen_q, Sk = g.seqlen_k;

  pack(a.q, B, Sq, Hq, D, Form::row_panels, L.q_rows, T);
  pack(a.dout, B, Sq, Hq, Dv, Form::row_panels, L.do_rows, T);
  pack(a.k, B, Sk, Hkv, D, Form::key_panels, L.k_keys, T);
  pack(a.v, B, Sk, Hv, Dv, Form::key_panels, L.v_keys, T);
  pack(a.q, B, Sq, Hq, D, Form::column_panels, L.q_cols, T);
  pack(a.dout, B, Sq, Hq, Dv, Form::column_panels, L.do_cols, T);
  pack(a.k, B, Sk, Hkv, D, Form::column_panels, L.k_cols, T);
  const i64 rows = B * Sq * Hq;
#pragma omp parallel for num_threads(T) schedule(static)
  for (i64 item = 0; item < rows; ++item) {
    const i64 h = item % Hq, bi = item / Hq, b = bi / Sq, i = bi % Sq;
    const float* o = a.o + item * Dv;
    const float* d_o = a.dout + item * Dv;
    float sum = 0.0f;
    for (i64 d = 0; d < Dv; ++d) sum += o[d] * d_o[d];
    L.delta[(b * Hq + h) * Sq + i] = sum;
  }

  const i64 units = Hq / unit_heads(g);  // Hkv when K and V have the same heads
  const i64 unit_items = B * units, k_items = a.map.k_tiles * unit_items;
  const i64 q_heads = B * Hq, q_items = a.map.q_tiles * q_heads;
#pragma omp parallel num_threads(T)
  {
    const BackwardLayout::Scratch s = L.for_thread(omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < k_items; ++item) {
      const i64 kt = a.map.k_order[item / unit_items], bu = item % unit_items;
      backward_dkdv_item(a, L, bu / units, bu % units, kt, s);
    }
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < q_items; ++item) {
      const i64 qt = a.map.q_order[item / q_heads], bh = item % q_heads;
      backward_dq_item(a, L, bh / Hq, bh % Hq, qt, s);
    }
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
