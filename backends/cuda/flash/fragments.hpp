// Where each lane of a warp reads and holds mma.sync m16n8k16 operands: shared by the kernels and the CPU
// warp emulation test.
#pragma once

#include "backends/cuda/flash/host_device.hpp"

namespace attnbench::cuda::flash {

// Shared tiles are row-major [rows][Width] of 16-bit elements, Width a multiple
// of 64, with the 16-byte chunk index XOR-ed by (row % 8): the 8 rows that one
// ldmatrix 8x8 matrix reads then hit 8 different bank groups. Columns c..c+7
// with c % 8 == 0 stay contiguous.
template <int Width>
ATTNBENCH_HD int swizzle(int row, int col) {
  static_assert(Width % 64 == 0, "swizzle needs at least 8 chunks per row");
  return row * Width + (((col >> 3) ^ (row & 7)) << 3) + (col & 7);
}

// The (row, col) of a shared tile whose 8 contiguous elements lane `lane` points
// ldmatrix.x4 at. Matrix i of the four is addressed by lanes 8i..8i+7.
struct TileCoord {
  int row, col;
};

// A operand (16 × 16 at (m0, k0)) of a row-major [m][k] tile, plain ldmatrix:
// registers a0..a3 in mma order.
ATTNBENCH_HD TileCoord ldsm_a(int lane, int m0, int k0) { return {m0 + (lane & 15), k0 + (lane >> 4) * 8}; }

// B operands of two n8 tiles (n0 and n0 + 8) × k16 from a row-major [n][k] tile
// (K for S = Q K^T), plain ldmatrix: {b0, b1} of n0, then {b0, b1} of n0 + 8.
ATTNBENCH_HD TileCoord ldsm_b_nk(int lane, int n0, int k0) {
  return {n0 + (lane & 7) + (lane >> 4) * 8, k0 + ((lane >> 3) & 1) * 8};
}

// B operands of two n8 tiles from a row-major [k][n] tile (V for O = P V),
// ldmatrix.trans: {b0, b1} of n0, then {b0, b1} of n0 + 8.
ATTNBENCH_HD TileCoord ldsm_b_kn_trans(int lane, int k0, int n0) {
  return {k0 + (lane & 7) + ((lane >> 3) & 1) * 8, n0 + (lane >> 4) * 8};
}

// A operand (16 × 16 at (m0, k0)) from a row-major [k][m] tile (dS^T for
// dQ = dS K), ldmatrix.trans: registers a0..a3 in mma order.
ATTNBENCH_HD TileCoord ldsm_a_km_trans(int lane, int m0, int k0) {
  return {k0 + (lane & 7) + (lane >> 4) * 8, m0 + ((lane >> 3) & 1) * 8};
}

// Accumulator element i (0..3) of a lane in its 16 × 8 C tile.
ATTNBENCH_HD int acc_row(int lane, int i) { return (lane >> 2) + 8 * (i >> 1); }
ATTNBENCH_HD int acc_col(int lane, int i) { return 2 * (lane & 3) + (i & 1); }

// A operand register i (0..3) of a lane holds the pair (a_row, a_col) and (a_row, a_col + 1)
// of its 16 × 16 A tile. Two adjacent C tiles (n0, n0 + 8) of one accumulator row
// block are exactly one A tile: a = {c_lo[0..1], c_lo[2..3], c_hi[0..1], c_hi[2..3]}.
ATTNBENCH_HD int a_row(int lane, int i) { return (lane >> 2) + 8 * (i & 1); }
ATTNBENCH_HD int a_col(int lane, int i) { return 2 * (lane & 3) + 8 * (i >> 1); }

}  // namespace attnbench::cuda::flash
