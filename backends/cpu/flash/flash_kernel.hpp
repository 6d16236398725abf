// ISA-neutral interface between the cpu.flash driver and its per-ISA kernel translation units.
#pragma once

// Only trivial types here (no default member initialisers, so no implicit
// constructors): this header is included by translation units compiled with
// -mavx2/-mavx512f, which must not emit any inline function shared with the rest
// of the program (the linker could keep an AVX-512 copy of it for everyone).
// Value-initialise with {}.
#include <cstddef>
#include <cstdint>

namespace attnbench::cpu::flash {

// Sizes of one attention problem (or one chunk pair), layout [B, S, H, D]: q [B,Sq,Hq,D],
// k [B,Sk,Hkv,D], v [B,Sk,heads_v,head_dim_v], o and dout [B,Sq,Hq,head_dim_v].
// heads_v and head_dim_v of 0 mean "as K" (heads_kv, head_dim).
struct Geometry {
  std::int64_t batch, seqlen_q, seqlen_k, heads_q, heads_kv, head_dim;
  double softmax_scale;
  std::int64_t heads_v, head_dim_v;
};

// The block map in the two orders the kernels walk: rows (forward, dQ) and
// columns (dK/dV), plus a heavy-first order of tiles for load balance.
struct TileMap {
  std::int64_t bq, bk, q_tiles, k_tiles;
  const std::int64_t* row_begin;  // q_tiles + 1
  const std::int32_t* cols;
  const std::uint8_t* row_full;
  const std::int64_t* col_begin;  // k_tiles + 1
  const std::int32_t* rows;
  const std::uint8_t* col_full;
  const std::int32_t* q_order;  // query tiles, most key tiles first
  const std::int32_t* k_order;  // key tiles, most query tiles first
};

// Allowed key ranges of a run of query rows: row r's ranges are
// pairs[2*begin[r] .. 2*begin[r+1]) as (lo, hi) global key indices, sorted and merged.
struct RowRanges {
  const std::int64_t* begin;
  const std::int64_t* pairs;
};

// How a kernel asks for the mask of partial tiles. fetch() returns storage
// owned by the calling thread, valid until that thread's next call.
struct MaskSource {
  const void* context;
  RowRanges (*fetch)(const void* context, std::int64_t q_global, std::int64_t nq);
  std::int64_t q_origin, k_origin;  // global index of local row/key 0
};

// Masks per (batch, query head) (Problem::head_masks): (b, h) walks maps[index[b * heads_q + h]]
// and asks sources[the same]. All null when one map and mask hold for every (b, h).
struct HeadMasks {
  const TileMap* maps;
  const MaskSource* sources;
  const std::int32_t* index;
};

// An additive score bias (Problem::bias) on global positions, whole problems only. kind 0: none;
// 1: ALiBi, -slopes[h] * |k - q - offset|; 2: relpos, table[h * (2 * max_distance + 1) + max_distance +
// clamp(k - q - offset)]. offset = Sk - Sq (bottom-right alignment).
struct ScoreBias {
  int kind;
  const float* slopes;
  const float* table;
  std::int64_t max_distance, offset;
};

struct ForwardArgs {
  Geometry geometry;
  TileMap map;  // with head masks: the first (b, h)'s map, whose tile order the work items follow
  MaskSource mask;
  HeadMasks heads;
  ScoreBias bias;
  const float *q, *k, *v;
  float *o, *lse;
  float* workspace;  // forward_workspace() floats, 64-byte aligned
  int threads;
};

struct BackwardArgs {
  Geometry geometry;
  TileMap map;
  MaskSource mask;
  HeadMasks heads;
  ScoreBias bias;
  const float *q, *k, *v, *o, *lse, *dout;
  float *dq, *dk, *dv;
  float* workspace;  // backward_workspace() floats, 64-byte aligned
  int threads;
};

// One compiled variant of the kernels (AVX-512, AVX2+FMA, portable).
struct KernelSet {
  const char* isa;
  std::int64_t tile_q, tile_k;  // block-map tile sizes this variant wants
  std::size_t (*forward_workspace)(const Geometry&, int threads);
  std::size_t (*backward_workspace)(const Geometry&, int threads);
  void (*forward)(const ForwardArgs&);
  void (*backward)(const BackwardArgs&);
  // The forward for a few query rows (flash_impl_decode.hpp): K and V read in place, the key axis
  // split over threads; the driver picks it (use_decode_path). Same arguments, its own workspace.
  std::size_t (*decode_workspace)(const Geometry&, int threads);
  void (*decode_forward)(const ForwardArgs&);
  // The inner pieces on one full tile_q x tile_k tile, for the micro-benchmarks:
  // S = Q K^T (Q as row panels [tile_q/MR][D][MR], K as key panels [tile_k/NR][D][NR]);
  // the online-softmax step on S (m, l, alpha: tile_q floats each);
  // O = diag(alpha) O + P V (V as column panels [Dp/NR][tile_k][NR], O tile_q x Dp).
  void (*tile_scores)(const float* q_rows, const float* k_keys, std::int64_t head_dim, float* scores);
  void (*tile_softmax)(float* scores, float softmax_scale, float* m, float* l, float* alpha);
  void (*tile_pv)(const float* probs, const float* v_cols, std::int64_t head_dim, const float* alpha,
                  float* o);
};

const KernelSet& kernels_generic();
#if defined(ATTNBENCH_FLASH_X86)
const KernelSet& kernels_avx2();
const KernelSet& kernels_avx512();
const KernelSet& kernels_avx512_t64();  // 64-row query tiles (head masks)
#endif

}  // namespace attnbench::cpu::flash
