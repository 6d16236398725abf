// Per-element masks of partial tiles as packed bits: row r, column c is bit c%32 of word r*words_per_row +
// c/32.
#pragma once

#include <cstdint>

#include "backends/cuda/flash/host_device.hpp"

namespace attnbench::cuda::flash {

ATTNBENCH_HD constexpr int words_per_row(int bits_per_row) { return (bits_per_row + 31) / 32; }

ATTNBENCH_HD bool tile_bit(const std::uint32_t* tile, int bits_per_row, int r, int c) {
  return ((tile[r * words_per_row(bits_per_row) + (c >> 5)] >> (c & 31)) & 1u) != 0;
}

// Packs a dense 0/1 tile (rows × cols bytes, row-major) into `out`, which holds
// out_rows × words_per_row(out_cols) words. Without transpose out(r, c) = dense(r, c);
// with transpose out(r, c) = dense(c, r) (key-major tiles for the backward pass).
// Cells outside the dense tile (a short last tile) are 0: padding is never allowed.
void pack_tile_bits(const std::uint8_t* dense, int rows, int cols, bool transpose, int out_rows, int out_cols,
                    std::uint32_t* out);

}  // namespace attnbench::cuda::flash
