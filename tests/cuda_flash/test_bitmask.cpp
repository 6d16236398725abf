// cuda.flash partial-tile bitmasks: packing and lookup agree with the dense tile, transposed or not.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "backends/cuda/flash/bitmask.hpp"

using namespace attnbench::cuda::flash;

TEST_CASE("packed bits equal the dense tile, short tiles padded with zeros", "[cuda_flash][bitmask]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    const int out_rows = 64, out_cols = trial % 2 ? 64 : 96;
    std::uniform_int_distribution<int> rows_d(1, out_rows), cols_d(1, out_cols);
    const int rows = rows_d(rng), cols = cols_d(rng);
    std::vector<std::uint8_t> dense(static_cast<std::size_t>(rows) * cols);
    for (auto& x : dense) x = (rng() % 3 == 0) ? 1 : 0;
    std::vector<std::uint32_t> bits(static_cast<std::size_t>(out_rows) * words_per_row(out_cols),
                                    0xdeadbeefu);
    pack_tile_bits(dense.data(), rows, cols, false, out_rows, out_cols, bits.data());
    for (int r = 0; r < out_rows; ++r)
      for (int c = 0; c < out_cols; ++c) {
        const bool want = r < rows && c < cols && dense[r * cols + c] != 0;
        REQUIRE(tile_bit(bits.data(), out_cols, r, c) == want);
      }
  }
}

TEST_CASE("transposed packing puts dense(r, c) at bit (c, r)", "[cuda_flash][bitmask]") {
  std::mt19937 rng(6);
  const int rows = 50, cols = 37;  // dense: 50 queries × 37 keys → packed 64 keys × 64 queries
  std::vector<std::uint8_t> dense(rows * cols);
  for (auto& x : dense) x = rng() & 1;
  std::vector<std::uint32_t> bits(64 * words_per_row(64));
  pack_tile_bits(dense.data(), rows, cols, true, 64, 64, bits.data());
  for (int k = 0; k < 64; ++k)
    for (int q = 0; q < 64; ++q) {
      const bool want = q < rows && k < cols && dense[q * cols + k] != 0;
      REQUIRE(tile_bit(bits.data(), 64, k, q) == want);
    }
}

TEST_CASE("a dense tile larger than the packed one is a logic error", "[cuda_flash][bitmask]") {
  std::vector<std::uint8_t> dense(65 * 64, 1);
  std::vector<std::uint32_t> bits(64 * 2);
  CHECK_THROWS(pack_tile_bits(dense.data(), 65, 64, false, 64, 64, bits.data()));
}
