// cpu.flash, forward for a few queries (decode): K and V read in place, once, for every query head.
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
//
// Why a second forward: with Sq <= kDecodeMaxSq the tiled forward's packing of the whole K and V
// (read, write a copy, read it again) and its one pass over K/V per query head cost several
// times the minimum traffic (docs/decode.md). Here a work item is (batch, key chunk) over all
// heads: each key block of K and V is read where it lies ([B, Sk, H, D], in memory order, which
// the hardware prefetchers follow) and used by every query row of every head before the next
// block. Key chunks (split-K, as flash-decoding) keep all cores busy when B is small; their
// partial (m, l, O) are merged by log-sum-exp at the end.
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
  i64 rows = 0, Dvp = 0, chunks = 0;  // query rows per batch element (Hq * Sq), padded Dv
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
// The mask of one (batch, query head), the one place that knows where it comes from: today every
// (b, h) shares the problem's mask (its block map's only query tile, and its row ranges).

struct DecodeMask {
  const std::int32_t* cols;  // non-empty key tiles, ascending
  const std::uint8_t* full;  // per entry: every query row sees every key of the tile
  i64 n;
  const MaskSource* src;
};

inline DecodeMask mask_for(const ForwardArgs& a, i64 /*b*/, i64 /*h*/) {
  const TileMap& map = a.map;
  const i64 at = map.row_begin[0];
  return {map.cols + at, map.row_full + at, map.row_begin[1] - at, &a.mask};
}

// ---------------------------------------------------------------------------
// Inner loops, NK keys at a time so a Q row (scores) or an O row (P V) is loaded once per NK keys.

// out[n] = q . k_n for NK key rows ldk floats apart (D floats each; the tail is scalar because
// the floats after a row belong to the next head).
template <int NK>
inline void dots(const float* q, const float* k, i64 ldk, i64 D, float* out) {
  V acc[NK];
#pragma GCC unroll 4
  for (int n = 0; n < NK; ++n) acc[n] = Simd::zero();
  i64 d = 0;
  for (; d + W <= D; d += W) {
    const V qv = Simd::load(q + d);
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) acc[n] = Simd::fma(qv, Simd::load(k + n * ldk + d), acc[n]);
  }
#pragma GCC unroll 4
  for (int n = 0; n < NK; ++n) {
    float x = Simd::hsum(acc[n]);
    for (i64 t = d; t < D; ++t) x += q[t] * k[n * ldk + t];
    out[n] = x;
  }
}

// o += sum_n p[n] * v_n for NK value rows ldv floats apart (Dv floats each).
template <int NK>
inline void axpys(float* o, const float* p, const float* v, i64 ldv, i64 Dv) {
  V pv[NK];
#pragma GCC unroll 4
  for (int n = 0; n < NK; ++n) pv[n] = Simd::set1(p[n]);
  i64 d = 0;
  for (; d + W <= Dv; d += W) {
    V x = Simd::load(o + d);
#pragma GCC unroll 4
    for (int n = 0; n < NK; ++n) x = Simd::fma(pv[n], Simd::load(v + n * ldv + d), x);
    Simd::store(o + d, x);
  }
  for (; d < Dv; ++d) {
    float x = o[d];
    for (int n = 0; n < NK; ++n) x += p[n] * v[n * ldv + d];
    o[d] = x;
  }
}

// Prefetches floats [p, p + n) into L2, one request per 64-byte line. Each phase prefetches what the
// next phase reads (scores: this block's V; P V: the next block's K), so the data arrives while the
// current block computes instead of stalling its first loads: the block's rows lie 4 KiB apart per
// head, which the hardware prefetchers pick up late.
inline void prefetch_floats(const float* p, i64 n) {
  for (i64 f = 0; f < n; f += 16) __builtin_prefetch(p + f, 0, 2);
}

// Where one item stands: its batch element, its accumulators and which heads see the current block.
struct DecodeItem {
  i64 b = 0;
  float *acc = nullptr, *m = nullptr, *l = nullptr;
  const float* q = nullptr;  // Q of batch b: row (h, i) at q + (i * Hq + h) * D
  const float* k = nullptr;  // K of batch b, key j head kh at k + (j * Hk + kh) * D
  const float* v = nullptr;
};

// Scores of the active heads' rows for keys [k0, k0 + nk): s[(h * Sq + i) * kTileK + j].
inline void decode_scores(const Geometry& g, const DecodeItem& it, const std::uint8_t* active, i64 k0, i64 nk,
                          float* s) {
  const i64 Sq = g.seqlen_q, Hq = g.heads_q, Hk = g.heads_kv, D = g.head_dim, G = Hq / Hk;
  const i64 ldk = Hk * D, ldv = value_heads(g) * value_dim(g);
  // Keys outer and heads inner: K is walked in memory order, each row once from memory.
  i64 j = 0;
  for (; j + 4 <= nk; j += 4) {
    prefetch_floats(it.v + (k0 + j) * ldv, 4 * ldv);
    for (i64 kh = 0; kh < Hk; ++kh) {
      const float* kr = it.k + ((k0 + j) * Hk + kh) * D;
      for (i64 h = kh * G; h < (kh + 1) * G; ++h) {
        if (!active[h]) continue;
        for (i64 i = 0; i < Sq; ++i) dots<4>(it.q + (i * Hq + h) * D, kr, ldk, D, s + (h * Sq + i) * kTileK + j);
      }
    }
  }
  for (; j < nk; ++j) {
    prefetch_floats(it.v + (k0 + j) * ldv, ldv);
    for (i64 kh = 0; kh < Hk; ++kh) {
      const float* kr = it.k + ((k0 + j) * Hk + kh) * D;
      for (i64 h = kh * G; h < (kh + 1) * G; ++h) {
        if (!active[h]) continue;
        for (i64 i = 0; i < Sq; ++i) dots<1>(it.q + (i * Hq + h) * D, kr, ldk, D, s + (h * Sq + i) * kTileK + j);
      }
    }
  }
}

// O rows of the active heads += P V over keys [k0, k0 + nk).
inline void decode_pv(const Geometry& g, const DecodeItem& it, const std::uint8_t* active, i64 k0, i64 nk,
                      const float* s, i64 Dvp) {
  const i64 Sq = g.seqlen_q, Hq = g.heads_q, Hv = value_heads(g), Dv = value_dim(g), G = Hq / Hv;
  const i64 ldv = Hv * Dv, ldk = g.heads_kv * g.head_dim;
  // The next key tile's K, spread over this tile's keys (the next non-empty tile is usually next).
  const i64 next0 = k0 + kTileK, next_n = imin(kTileK, g.seqlen_k - next0);
  auto prefetch_next_k = [&](i64 j, i64 n) {
    if (j < next_n) prefetch_floats(it.k + (next0 + j) * ldk, imin(n, next_n - j) * ldk);
  };
  i64 j = 0;
  for (; j + 4 <= nk; j += 4) {
    prefetch_next_k(j, 4);
    for (i64 vh = 0; vh < Hv; ++vh) {
      const float* vr = it.v + ((k0 + j) * Hv + vh) * Dv;
      for (i64 h = vh * G; h < (vh + 1) * G; ++h) {
        if (!active[h]) continue;
        for (i64 i = 0; i < Sq; ++i) {
          const i64 r = h * Sq + i;
          axpys<4>(it.acc + r * Dvp, s + r * kTileK + j, vr, ldv, Dv);
        }
      }
    }
  }
  for (; j < nk; ++j) {
    prefetch_next_k(j, 1);
    for (i64 vh = 0; vh < Hv; ++vh) {
      const float* vr = it.v + ((k0 + j) * Hv + vh) * Dv;
      for (i64 h = vh * G; h < (vh + 1) * G; ++h) {
        if (!active[h]) continue;
        for (i64 i = 0; i < Sq; ++i) {
          const i64 r = h * Sq + i;
          axpys<1>(it.acc + r * Dvp, s + r * kTileK + j, vr, ldv, Dv);
        }
      }
    }
  }
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
                        std::uint8_t* active) {
  const Geometry& g = a.geometry;
  const i64 Sq = g.seqlen_q, Sk = g.seqlen_k, Hq = g.heads_q;
  const float c = static_cast<float>(g.softmax_scale) * kLog2e;
  DecodeItem it;
  it.b = b;
  it.acc = acc;
  it.q = a.q + b * Sq * Hq * g.head_dim;
  it.k = a.k + b * Sk * g.heads_kv * g.head_dim;
  it.v = a.v + b * Sk * value_heads(g) * value_dim(g);
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
    decode_scores(g, it, active, k0, nk, sc.s);
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
      online_softmax_tile(sc.s + r0 * kTileK, Sq, nk, c, full ? nullptr : &ranges, hc.mask.src->k_origin + k0,
                          m + r0, l + r0, sc.alpha + r0);
      for (i64 r = r0; r < r0 + Sq; ++r) {
        if (sc.alpha[r] == 1.0f) continue;
        const V av = Simd::set1(sc.alpha[r]);
        float* o = acc + r * L.Dvp;
        for (i64 d = 0; d < L.Dvp; d += W) Simd::store(o + d, Simd::mul(av, Simd::load(o + d)));
      }
    }
    decode_pv(g, it, active, k0, nk, sc.s, L.Dvp);
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
  // Chunk bounds: equal shares of the non-empty key tiles of the problem's mask (today shared by
  // every head), as absolute key tiles [bound[c], bound[c+1]).
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
#pragma omp for schedule(dynamic, 1)
    for (i64 item = 0; item < B * C; ++item) {
      const i64 b = item / C, ch = item % C;
      decode_item(a, L, b, bound(ch), bound(ch + 1), L.acc + item * L.rows * L.Dvp, L.m + item * L.rows,
                  L.l + item * L.rows, sc, heads, active);
    }
    delete[] heads;
    delete[] active;
#pragma omp for schedule(static)
    for (i64 br = 0; br < B * L.rows; ++br) decode_merge_row(a, L, br / L.rows, br % L.rows);
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
