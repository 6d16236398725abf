// Tile sizes of cuda.flash, visible to the host code that builds the block schedules for them.
#pragma once

namespace attnbench::cuda_flash {

// Forward: one CTA per (query tile, batch, head); every warp owns 16 query rows,
// so the Q fragments and the output accumulator stay in registers.
struct ForwardTile {
  static constexpr int block_q = 128;
  static constexpr int block_k = 64;
  static constexpr int warps = 8;
  static constexpr int threads = warps * 32;
};

// Backward: one CTA per (key tile, batch, KV head); every warp owns 16 keys of
// dK/dV, the query tiles of the transposed schedule stream through shared memory.
struct BackwardTile {
  static constexpr int block_q = 64;
  static constexpr int block_k = 64;
  static constexpr int warps = 4;
  static constexpr int threads = warps * 32;
};

static_assert(ForwardTile::block_q == 16 * ForwardTile::warps);
static_assert(BackwardTile::block_k == 16 * BackwardTile::warps);
static_assert(BackwardTile::block_q == 16 * BackwardTile::warps, "dQ phase: 16 queries per warp");
static_assert(ForwardTile::block_k % 32 == 0 && BackwardTile::block_q % 32 == 0,
              "bitmask rows are whole 32-bit words");

}  // namespace attnbench::cuda_flash
