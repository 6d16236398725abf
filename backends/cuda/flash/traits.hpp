// Tile sizes of cuda.flash, visible to the host code that builds the block schedules for them.
#pragma once

namespace attnbench::cuda::flash {

// Forward: one CTA per (query tile, batch, head), 128 × 64 tiles. Two warp layouts
// share the schedule: 8 warps of 16 rows with the Q fragments resident in
// registers, or 4 warps of 32 rows (FA2's layout) that read every K/V fragment
// from shared memory once per 32 rows instead of 16 and reload Q instead.
struct ForwardTile {
  static constexpr int block_q = 128;
  static constexpr int block_k = 64;
};

// Threads of a forward CTA whose warps own 16 * MT rows each.
template <int MT>
inline constexpr int forward_threads = ForwardTile::block_q / (16 * MT) * 32;

// Backward: one CTA per (key tile, batch, KV head); every warp owns 16 keys of
// dK/dV, the query tiles of the transposed schedule stream through shared memory.
struct BackwardTile {
  static constexpr int block_q = 64;
  static constexpr int block_k = 64;
  static constexpr int warps = 4;
  static constexpr int threads = warps * 32;
};

static_assert(BackwardTile::block_k == 16 * BackwardTile::warps);
static_assert(BackwardTile::block_q == 16 * BackwardTile::warps, "dQ phase: 16 queries per warp");
static_assert(ForwardTile::block_k % 32 == 0 && BackwardTile::block_q % 32 == 0,
              "bitmask rows are whole 32-bit words");

}  // namespace attnbench::cuda::flash
