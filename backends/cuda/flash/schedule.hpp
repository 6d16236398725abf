// Block schedules of cuda.flash: which tiles each CTA visits, built once per case on the host from the mask.
#pragma once

#include <cstdint>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::cuda::flash {

// Forward schedule (compressed rows): query tile t visits the key tiles
// tiles[begin[t] .. begin[t+1]) in increasing order. mask_slot[e] is -1 for a
// full tile (every cell in range and allowed: no per-element test), otherwise
// the index of its bitmask in `bits`: block_q rows (queries) × block_k bits (keys).
// Tiles that stick out of the sequence are partial, so padding is never allowed.
//
// Backward schedule (compressed columns, the transpose): key tile t visits the
// query tiles tiles[begin[t] .. begin[t+1]); its bitmasks are key-major:
// block_k rows (keys) × block_q bits (queries).
struct TileSchedule {
  bool key_major = false;
  std::int32_t block_q = 0, block_k = 0;
  std::int32_t q_tiles = 0, k_tiles = 0;
  std::vector<std::int32_t> begin;      // outer tiles + 1
  std::vector<std::int32_t> tiles;      // inner tile index per entry
  std::vector<std::int32_t> mask_slot;  // per entry: -1 full, else bitmask index
  std::vector<std::uint32_t> bits;      // partial tiles' bitmasks, slot after slot

  std::int32_t outer_tiles() const { return key_major ? k_tiles : q_tiles; }
  std::int32_t entries() const { return static_cast<std::int32_t>(tiles.size()); }
  // Words of one bitmask.
  std::int64_t words_per_tile() const;
  std::int64_t partial_tiles() const;
};

TileSchedule build_query_major_schedule(const Mask&, int block_q, int block_k);
TileSchedule build_key_major_schedule(const Mask&, int block_q, int block_k);

// A rectangle of the mask: queries [q0, q0 + nq) × keys [k0, k0 + nk) (a CP chunk pair).
struct Rect {
  std::int64_t q0 = 0, nq = 0, k0 = 0, nk = 0;
};
// The same schedules over a rectangle: tiles are aligned to its origin and
// indices are rectangle-local, so the kernels see the chunk as a whole problem.
TileSchedule build_query_major_schedule(const Mask&, int block_q, int block_k, const Rect&);
TileSchedule build_key_major_schedule(const Mask&, int block_q, int block_k, const Rect&);

}  // namespace attnbench::cuda::flash
