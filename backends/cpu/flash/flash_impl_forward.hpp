// cpu.flash, forward: workspace layout and one (batch, head, query tile) work item over its key tiles.
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
#pragma once

#include "flash_impl_softmax.hpp"

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

// ---------------------------------------------------------------------------
// Forward.

struct ForwardLayout : ThreadScratch<ForwardLayout> {
  i64 Dp = 0;                     // V's head dim padded (the O accumulator's width)
  Packed q_rows, k_keys, v_cols;  // Q as A operand, K^T and V as B operands
  Bump bump;

  ForwardLayout(const Geometry& g, float* ws, int threads) {
    const i64 B = g.batch, D = g.head_dim, Dv = value_dim(g);
    Dp = padded_dim(Dv);
    bump.base = ws;
    q_rows = bump.take_packed(B, g.heads_q, row_panels_size(g.seqlen_q, D));
    k_keys = bump.take_packed(B, g.heads_kv, key_panels_size(g.seqlen_k, D));
    v_cols = bump.take_packed(B, value_heads(g), column_panels_size(g.seqlen_k, Dv));
    reserve_threads(bump, threads);
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
};

inline std::size_t forward_workspace(const Geometry& g, int threads) {
  return workspace_of<ForwardLayout>(g, threads);
}

// One (batch, query head, query tile): online softmax over the tile's non-empty key tiles.
inline void forward_item(const ForwardArgs& a, const ForwardLayout& L, i64 b, i64 h, i64 qt,
                         const ForwardLayout::Scratch& s) {
  const Geometry& g = a.geometry;
  const TileMap& map = map_of(a, b, h);
  const MaskSource& mask = mask_of(a, b, h);
  const i64 D = g.head_dim, Dv = value_dim(g), Dp = L.Dp, Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const i64 kh = h / (Hq / g.heads_kv), vh = h / (Hq / value_heads(g));
  const i64 q0 = qt * kTileQ, mq = imin(kTileQ, Sq - q0);
  const float c = static_cast<float>(g.softmax_scale) * kLog2e;
  const float* qa = L.q_rows.at(b, h) + q0 * D;
  const float* kb = L.k_keys.at(b, kh);
  const float* vb = L.v_cols.at(b, vh);

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
    gemm<AMode::panels, Acc::set>(mq, nkp, D, qa, MR, kb + k0 * D, NR, D * NR, s.s, kTileK, nullptr);
    add_score_bias(a.bias, h, q0, mq, k0, nk, 1.0f / static_cast<float>(g.softmax_scale), s.s, kTileK);
    if (!full && !have_ranges) {
      ranges = mask.fetch(mask.context, mask.q_origin + q0, mq);
      have_ranges = true;
    }
    online_softmax_tile(s.s, mq, nk, c, full ? nullptr : &ranges, mask.k_origin + k0, s.m, s.l, s.alpha);
    gemm<AMode::rows, Acc::scale_add>(mq, Dp, nk, s.s, kTileK, vb + k0 * NR, NR, Sk * NR, s.o, Dp, s.alpha);
  }
  for (i64 r = 0; r < mq; ++r) {
    float* out = a.o + ((b * Sq + q0 + r) * Hq + h) * Dv;
    float* lse = a.lse + (b * Hq + h) * Sq + q0 + r;
    if (s.l[r] == 0.0f) {
      zero_floats(out, Dv);
      *lse = kNegInf;
      continue;
    }
    const float inv = 1.0f / s.l[r];
    for (i64 d = 0; d < Dv; ++d) out[d] = s.o[r * Dp + d] * inv;
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
  pack(a.v, B, g.seqlen_k, value_heads(g), value_dim(g), Form::column_panels, L.v_cols, T);
  const i64 heads = B * g.heads_q, items = a.map.q_tiles * heads;
  // Masks per (b, h) (dynamic selectors) keep scattered key blocks: walking one head's query tiles
  // together keeps that head's K and V in cache between tiles, where tile-major order cycled through
  // every head's K and V (8 heads x 32 MB at 32K). Static masks keep the heavy-first tile-major
  // order, whose key tiles stream in order.
  const bool head_major = a.heads.index != nullptr;
#pragma omp parallel num_threads(T)
  {
    const ForwardLayout::Scratch s = L.for_thread(omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < items; ++item) {
      const i64 qt = head_major ? a.map.q_order[item % a.map.q_tiles] : a.map.q_order[item / heads];
      const i64 bh = head_major ? item / a.map.q_tiles : item % heads;
      forward_item(a, L, bh / g.heads_q, bh % g.heads_q, qt, s);
    }
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
