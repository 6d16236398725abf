// cpu.flash, forward for a few queries (decode): K and V read in place, once, for every query head.
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
//
// Why a second forward: with Sq <= kDecodeMaxSq the tiled forward's packing of the whole K and V
// (read, write a copy, read it again) and its one pass over K/V per query head cost several
// times the minimum traffic (docs/decode.md). Here a work item is (batch, key chunk) over all
// heads: each key block of K and V is read where it lies ([B, Sk, H, D], in memory order, with a
// software prefetch ahead) and used by every query row of every head before the next block. Key chunks
// (split-K, as flash-decoding) keep all cores busy when B is small; their partial (m, l, O) are merged by
// log-sum-exp at the end.
#pragma once

#include "flash_impl_softmax.hpp"

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

// ---------------------------------------------------------------------------
// Work split: key chunks per batch element.

// Chunks per batch element: about 4 items per thread for load balance (masks and per-request
// lengths make chunks unequal), but at least 4 key tiles per chunk so the merge stays negligible.
inline i64 decode_chunks(const Geometry& g, int threads) {
  const i64 k_tiles = (g.seqlen_k + kTileK - 1) / kTileK;
  const i64 want = (4 * static_cast<i64>(threads) + g.batch - 1) / g.batch;
  return imax(1, imin(want, k_tiles / 4));
}

struct DecodeLayout : ThreadScratch<DecodeLayout> {
  i64 rows = 0, Dvp = 0, chunks = 0;                 // query rows per batch element (Hq * Sq), padded Dv
  float *acc = nullptr, *m = nullptr, *l = nullptr;  // per (batch, chunk): rows x Dvp, rows, rows
  Bump bump;

  DecodeLayout(const Geometry& g, float* ws, int threads) {
    rows = g.heads_q * g.seqlen_q;
    Dvp = round_up(value_dim(g), W);
    chunks = decode_chunks(g, threads);
    bump.base = ws;
    const i64 items = g.batch * chunks;
    acc = bump.take(items * rows * Dvp);
    m = bump.take(items * rows);
    l = bump.take(items * rows);
    reserve_threads(bump, threads);
  }
  struct Scratch {
    float *s = nullptr, *alpha = nullptr;
  };
  Scratch scratch(Bump& t) const {
    Scratch s;
    s.s = t.take(rows * kTileK);
    s.alpha = t.take(rows);
    return s;
  }
};

inline std::size_t decode_workspace(const Geometry& g, int threads) {
  return workspace_of<DecodeLayout>(g, threads);
}

// ---------------------------------------------------------------------------
// The mask of one (batch, query head), the one place that knows where it comes from: the problem's
// mask, or the (b, h)'s own under per-head masks (its block map's only query tile, and its row ranges).

struct DecodeMask {
  const std::int32_t* cols;  // non-empty key tiles, ascending
  const std::uint8_t* full;  // per entry: every query row sees every key of the tile
  i64 n;
  const MaskSource* src;
};

inline DecodeMask mask_for(const ForwardArgs& a, i64 b, i64 h) {
  const TileMap& map = map_of(a, b, h);
  const i64 at = map.row_begin[0];
  return {map.cols + at, map.row_full + at, map.row_begin[1] - at, &mask_of(a, b, h)};
}

// ---------------------------------------------------------------------------
// Inner loops on R query rows x NK keys: each K or V vector loaded is used by R rows, each Q or O
// vector by NK keys (the loads, not the FMAs, bound a one-row loop). R x NK accumulators must fit
// the register file: 4 x 4 with AVX-512's 32 registers, 2 x 4 with AVX2's 16.
constexpr int kRowBlock = W >= 16 ? 4 : 2;

// s[r * kTileK + n] = q[r] . k_n for R query rows and NK key rows ldk floats apart (D floats each;
// the tail is scalar because the floats after a row belong to the next head).
template <int R, int NK>
inline void dots(const float* const* q, const float* k, i64 ldk, i64 D, float* s) {
  V acc[R][NK];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) acc[r][n] = Simd::zero();
  i64 d = 0;
  for (; d + W <= D; d += W) {
    V kv[NK];
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) kv[n] = Simd::load(k + n * ldk + d);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const V qv = Simd::load(q[r] + d);
#pragma GCC unroll 4
      for (int n = 0; n < NK; ++n) acc[r][n] = Simd::fma(qv, kv[n], acc[r][n]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float* out = s + r * kTileK;
    if constexpr (NK == 4) {
      Simd::hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], out);
    } else {
      for (int n = 0; n < NK; ++n) out[n] = Simd::hsum(acc[r][n]);
    }
    for (int n = 0; n < NK; ++n)
      for (i64 t = d; t < D; ++t) out[n] += q[r][t] * k[n * ldk + t];
  }
}

// o[r * Dvp ..] += sum_n p[r * kTileK + n] * v_n for R rows and NK value rows ldv floats apart.
template <int R, int NK>
inline void axpys(float* o, i64 Dvp, const float* p, const float* v, i64 ldv, i64 Dv) {
  V pv[R][NK];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) pv[r][n] = Simd::set1(p[r * kTileK + n]);
  i64 d = 0;
  for (; d + W <= Dv; d += W) {
    V vv[NK];
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) vv[n] = Simd::load(v + n * ldv + d);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      V x = Simd::load(o + r * Dvp + d);
#pragma GCC unroll 4
      for (int n = 0; n < NK; ++n) x = Simd::fma(pv[r][n], vv[n], x);
      Simd::store(o + r * Dvp + d, x);
    }
  }
  for (int r = 0; r < R; ++r)
    for (i64 t = d; t < Dv; ++t) {
      float x = o[r * Dvp + t];
      for (int n = 0; n < NK; ++n) x += p[r * kTileK + n] * v[n * ldv + t];
      o[r * Dvp + t] = x;
    }
}

// Keys ahead that the loops prefetch. Each step over NK keys of one head prefetches the same head's
// rows NK keys, kPrefetchKeys ahead: the rows of one head lie Hk*D floats apart (4 KiB, a new page
// per key) where the hardware prefetchers start late, and a request per line, spread over the
// compute, keeps enough lines in flight without a burst that fills the miss buffers.
constexpr i64 kPrefetchKeys = 16;

// Prefetches rows [j, j + n) of one head (row length len floats, rows ld apart) of a tensor of sk keys.
inline void prefetch_rows(const float* base, i64 j, i64 n, i64 ld, i64 len, i64 sk) {
  for (i64 t = j; t < j + n && t < sk; ++t)
    for (i64 f = 0; f < len; f += 16) __builtin_prefetch(base + t * ld + f, 0, 2);
}

// Where one item stands: its accumulators, its inputs, which heads see the current block.
struct DecodeItem {
  float* acc = nullptr;
  const float* const* q = nullptr;  // Q row pointers, row r = h * Sq + i
  const float* k = nullptr;         // K of the batch element, key j head kh at k + (j * Hk + kh) * D
  const float* v = nullptr;
  const std::uint8_t* active = nullptr;  // per query head: the current block is non-empty for it
};

// Whether every query head in [h0, h1) is active (then their rows go through the blocked loops).
inline bool all_active(const std::uint8_t* active, i64 h0, i64 h1, bool& any) {
  bool all = true;
  any = false;
  for (i64 h = h0; h < h1; ++h) {
    all = all && active[h];
    any = any || active[h];
  }
  return all;
}

// Scores of keys [k0 + j, k0 + j + NK) for the rows of every key head some active head reads.
template <int NK>
inline void scores_step(const Geometry& g, const DecodeItem& it, i64 k0, i64 j, float* s) {
  const i64 Sq = g.seqlen_q, Hk = g.heads_kv, D = g.head_dim, G = g.heads_q / Hk;
  const i64 ldk = Hk * D;
  for (i64 kh = 0; kh < Hk; ++kh) {  // heads inner: K is walked in memory order
    bool any = false;
    all_active(it.active, kh * G, (kh + 1) * G, any);
    if (!any) continue;  // rows of inactive heads get scores nobody reads
    const float* kr = it.k + ((k0 + j) * Hk + kh) * D;
    prefetch_rows(it.k + kh * D, k0 + j + kPrefetchKeys, NK, ldk, D, g.seqlen_k);
    i64 r = kh * G * Sq;
    const i64 end = r + G * Sq;
    for (; r + kRowBlock <= end; r += kRowBlock)
      dots<kRowBlock, NK>(it.q + r, kr, ldk, D, s + r * kTileK + j);
    for (; r < end; ++r) dots<1, NK>(it.q + r, kr, ldk, D, s + r * kTileK + j);
  }
}

// O rows of the active heads += P V over keys [k0 + j, k0 + j + NK).
template <int NK>
inline void pv_step(const Geometry& g, const DecodeItem& it, i64 k0, i64 j, const float* s, i64 Dvp) {
  const i64 Sq = g.seqlen_q, Hv = value_heads(g), Dv = value_dim(g), G = g.heads_q / Hv;
  const i64 ldv = Hv * Dv;
  for (i64 vh = 0; vh < Hv; ++vh) {
    bool any = false;
    const bool all = all_active(it.active, vh * G, (vh + 1) * G, any);
    if (!any) continue;
    const float* vr = it.v + ((k0 + j) * Hv + vh) * Dv;
    prefetch_rows(it.v + vh * Dv, k0 + j + kPrefetchKeys, NK, ldv, Dv, g.seqlen_k);
    i64 r = vh * G * Sq;
    const i64 end = r + G * Sq;
    if (all)
      for (; r + kRowBlock <= end; r += kRowBlock)
        axpys<kRowBlock, NK>(it.acc + r * Dvp, Dvp, s + r * kTileK + j, vr, ldv, Dv);
    for (; r < end; ++r)
      if (it.active[r / Sq]) axpys<1, NK>(it.acc + r * Dvp, Dvp, s + r * kTileK + j, vr, ldv, Dv);
  }
}

// Scores of the active heads' rows for keys [k0, k0 + nk): s[(h * Sq + i) * kTileK + j].
inline void decode_scores(const Geometry& g, const DecodeItem& it, i64 k0, i64 nk, float* s) {
  i64 j = 0;
  for (; j + 4 <= nk; j += 4) scores_step<4>(g, it, k0, j, s);
  for (; j < nk; ++j) scores_step<1>(g, it, k0, j, s);
}

// O rows of the active heads += P V over keys [k0, k0 + nk).
inline void decode_pv(const Geometry& g, const DecodeItem& it, i64 k0, i64 nk, const float* s, i64 Dvp) {
  i64 j = 0;
  for (; j + 4 <= nk; j += 4) pv_step<4>(g, it, k0, j, s, Dvp);
  for (; j < nk; ++j) pv_step<1>(g, it, k0, j, s, Dvp);
}

// Per-head state while an item walks its key tiles: the head's mask and a cursor into its tile list.
struct HeadCursor {
  DecodeMask mask;
  i64 at;
};

// One (batch, key chunk): online softmax over the chunk's non-empty key tiles [t0, t1) for every
// query row of batch b; leaves the unnormalised O, m (exp2 domain) and l in the item's slot.
inline void decode_item(const ForwardArgs& a, const DecodeLayout& L, i64 b, i64 t0, i64 t1, float* acc,
                        float* m, float* l, const DecodeLayout::Scratch& sc, HeadCursor* heads,
                        std::uint8_t* active, const float** q_rows) {
  const Geometry& g = a.geometry;
  const i64 Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q, D = g.head_dim;
  const float c = static_cast<float>(g.softmax_scale) * kLog2e;
  for (i64 r = 0; r < L.rows; ++r) q_rows[r] = a.q + ((b * Sq + r % Sq) * Hq + r / Sq) * D;
  DecodeItem it;
  it.acc = acc;
  it.q = q_rows;
  it.k = a.k + b * Sk * g.heads_kv * D;
  it.v = a.v + b * Sk * value_heads(g) * value_dim(g);
  it.active = active;
  zero_floats(acc, L.rows * L.Dvp);
  for (i64 r = 0; r < L.rows; ++r) {
    m[r] = kNegInf;
    l[r] = 0.0f;
  }
  for (i64 h = 0; h < Hq; ++h) {
    heads[h].mask = mask_for(a, b, h);
    const DecodeMask& hm = heads[h].mask;
    i64 at = 0;
    while (at < hm.n && hm.cols[at] < t0) ++at;
    heads[h].at = at;
  }
  // Row ranges for partial tiles, fetched once per mask source (fetch() storage is per thread and
  // valid until its next call, so heads with different sources would each need a copy).
  const MaskSource* fetched = nullptr;
  RowRanges ranges{};
  for (i64 kt = t0; kt < t1; ++kt) {
    bool any = false;
    for (i64 h = 0; h < Hq; ++h) {
      HeadCursor& hc = heads[h];
      active[h] = hc.at < hc.mask.n && hc.mask.cols[hc.at] == kt;
      any = any || active[h];
    }
    if (!any) continue;  // empty for every head: neither K nor V of this block is read
    const i64 k0 = kt * kTileK, nk = imin(kTileK, Sk - k0);
    decode_scores(g, it, k0, nk, sc.s);
    for (i64 h = 0; h < Hq; ++h) {
      if (!active[h]) continue;
      HeadCursor& hc = heads[h];
      const bool full = hc.mask.full[hc.at] != 0;
      ++hc.at;
      if (!full && fetched != hc.mask.src) {
        ranges = hc.mask.src->fetch(hc.mask.src->context, hc.mask.src->q_origin, Sq);
        fetched = hc.mask.src;
      }
      const i64 r0 = h * Sq;
      add_score_bias(a.bias, h, 0, Sq, k0, nk, 1.0f / static_cast<float>(g.softmax_scale), sc.s + r0 * kTileK,
                     kTileK);
      online_softmax_tile(sc.s + r0 * kTileK, Sq, nk, c, full ? nullptr : &ranges, hc.mask.src->k_origin + k0,
                          m + r0, l + r0, sc.alpha + r0);
      for (i64 r = r0; r < r0 + Sq; ++r) {
        if (sc.alpha[r] == 1.0f) continue;
        const V av = Simd::set1(sc.alpha[r]);
        float* o = acc + r * L.Dvp;
        for (i64 d = 0; d < L.Dvp; d += W) Simd::store(o + d, Simd::mul(av, Simd::load(o + d)));
      }
    }
    decode_pv(g, it, k0, nk, sc.s, L.Dvp);
  }
}

// O and LSE of one (batch, query row) from the chunks' partials, as the tiled forward writes them.
inline void decode_merge_row(const ForwardArgs& a, const DecodeLayout& L, i64 b, i64 r) {
  const Geometry& g = a.geometry;
  const i64 Sq = g.seqlen_q, Hq = g.heads_q, Dv = value_dim(g);
  const i64 h = r / Sq, i = r % Sq;
  float* out = a.o + ((b * Sq + i) * Hq + h) * Dv;
  float* lse = a.lse + (b * Hq + h) * Sq + i;
  const i64 first = b * L.chunks;
  float mx = kNegInf;
  for (i64 ch = 0; ch < L.chunks; ++ch) mx = fmax2(mx, L.m[(first + ch) * L.rows + r]);
  zero_floats(out, Dv);
  if (mx == kNegInf) {  // no allowed key in any chunk
    *lse = kNegInf;
    return;
  }
  float sum = 0.0f;
  for (i64 ch = 0; ch < L.chunks; ++ch) {
    const i64 slot = (first + ch) * L.rows + r;
    if (L.m[slot] == kNegInf) continue;
    const float w = exp2f(L.m[slot] - mx);
    sum += w * L.l[slot];
    const float* part = L.acc + slot * L.Dvp;
    for (i64 d = 0; d < Dv; ++d) out[d] += w * part[d];
  }
  const float inv = 1.0f / sum;
  for (i64 d = 0; d < Dv; ++d) out[d] *= inv;
  *lse = mx * kLn2 + logf(sum);
}

inline void decode_forward(const ForwardArgs& a) {
  const Geometry& g = a.geometry;
  const int T = a.threads > 0 ? a.threads : 1;
  const DecodeLayout L(g, a.workspace, T);
  const i64 B = g.batch, C = L.chunks, Hq = g.heads_q;
  // Chunk bounds: equal shares of the non-empty key tiles of the first (b, h)'s mask (any split is
  // correct; this one balances when the heads share a mask), as absolute key tiles [bound[c], bound[c+1]).
  const DecodeMask whole = mask_for(a, 0, 0);
  const i64 k_tiles = a.map.k_tiles;
  auto bound = [&](i64 ch) -> i64 {
    if (ch == 0) return 0;
    if (ch == C) return k_tiles;
    const i64 at = whole.n * ch / C;
    return at < whole.n ? whole.cols[at] : k_tiles;
  };
#pragma omp parallel num_threads(T)
  {
    const DecodeLayout::Scratch sc = L.for_thread(omp_get_thread_num());
    // Per-head cursors of this thread (Hq entries; the float workspace holds only floats).
    HeadCursor* heads = new HeadCursor[static_cast<std::size_t>(Hq)];
    std::uint8_t* active = new std::uint8_t[static_cast<std::size_t>(Hq)];
    const float** q_rows = new const float*[static_cast<std::size_t>(L.rows)];
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < B * C; ++item) {
      const i64 b = item / C, ch = item % C;
      decode_item(a, L, b, bound(ch), bound(ch + 1), L.acc + item * L.rows * L.Dvp, L.m + item * L.rows,
                  L.l + item * L.rows, sc, heads, active, q_rows);
    }
    delete[] q_rows;
    delete[] heads;
    delete[] active;
#pragma omp for schedule(static)
    for (i64 br = 0; br < B * L.rows; ++br) decode_merge_row(a, L, br / L.rows, br % L.rows);
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
