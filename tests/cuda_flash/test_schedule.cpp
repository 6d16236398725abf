// cuda.flash block schedules: exactly the non-empty tiles, honest full flags, bitmasks equal to the dense
// mask.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <utility>

#include "backends/cuda/flash/bitmask.hpp"
#include "backends/cuda/flash/schedule.hpp"
#include "backends/cuda/flash/traits.hpp"
#include "tests/cuda_flash/random_masks.hpp"

using namespace attnbench;
using namespace attnbench::cuda::flash;

namespace {

// Checks one schedule against a dense sq × sk mask: tile lists, order, full flags and every bit.
void check_schedule(const TileSchedule& s, std::int64_t sq, std::int64_t sk,
                    const std::vector<std::uint8_t>& dense) {
  REQUIRE(s.q_tiles == (sq + s.block_q - 1) / s.block_q);
  REQUIRE(s.k_tiles == (sk + s.block_k - 1) / s.block_k);
  REQUIRE(s.begin.size() == static_cast<std::size_t>(s.outer_tiles()) + 1);
  REQUIRE(s.begin.front() == 0);
  REQUIRE(s.begin.back() == s.entries());
  REQUIRE(s.mask_slot.size() == s.tiles.size());
  std::int64_t slots_seen = 0;
  for (std::int32_t outer = 0; outer < s.outer_tiles(); ++outer) {
    std::vector<std::int32_t> expected;
    const std::int32_t inner_tiles = s.key_major ? s.q_tiles : s.k_tiles;
    for (std::int32_t inner = 0; inner < inner_tiles; ++inner) {
      const std::int32_t qt = s.key_major ? inner : outer, kt = s.key_major ? outer : inner;
      bool any = false;
      for (std::int64_t q = qt * std::int64_t{s.block_q};
           q < std::min<std::int64_t>(sq, (qt + 1) * std::int64_t{s.block_q}); ++q)
        for (std::int64_t k = kt * std::int64_t{s.block_k};
             k < std::min<std::int64_t>(sk, (kt + 1) * std::int64_t{s.block_k}); ++k)
          any = any || dense[q * sk + k] != 0;
      if (any) expected.push_back(inner);
    }
    const std::vector<std::int32_t> listed(s.tiles.begin() + s.begin[outer],
                                           s.tiles.begin() + s.begin[outer + 1]);
    REQUIRE(listed == expected);

    for (auto e = s.begin[outer]; e < s.begin[outer + 1]; ++e) {
      const std::int32_t qt = s.key_major ? s.tiles[e] : outer, kt = s.key_major ? outer : s.tiles[e];
      const int slot = s.mask_slot[e];
      bool all = (qt + 1) * std::int64_t{s.block_q} <= sq && (kt + 1) * std::int64_t{s.block_k} <= sk;
      for (int i = 0; i < s.block_q; ++i)
        for (int j = 0; j < s.block_k; ++j) {
          const std::int64_t q = qt * std::int64_t{s.block_q} + i, k = kt * std::int64_t{s.block_k} + j;
          const bool want = q < sq && k < sk && dense[q * sk + k] != 0;
          all = all && want;
          if (slot < 0) continue;
          const std::uint32_t* bits = s.bits.data() + slot * s.words_per_tile();
          const bool got = s.key_major ? tile_bit(bits, s.block_q, j, i) : tile_bit(bits, s.block_k, i, j);
          if (got != want) FAIL("bit mismatch at q=" << q << " k=" << k << " key_major=" << s.key_major);
        }
      CHECK((slot < 0) == all);  // full exactly when every cell is in range and allowed
      if (slot >= 0) CHECK(slot == slots_seen++);
    }
  }
  CHECK(slots_seen == s.partial_tiles());
}

std::set<std::pair<int, int>> tile_pairs(const TileSchedule& s) {
  std::set<std::pair<int, int>> out;
  for (std::int32_t outer = 0; outer < s.outer_tiles(); ++outer)
    for (auto e = s.begin[outer]; e < s.begin[outer + 1]; ++e)
      out.insert(s.key_major ? std::pair{s.tiles[e], outer} : std::pair{outer, s.tiles[e]});
  return out;
}

}  // namespace

TEST_CASE("forward schedule lists exactly the non-empty tiles of random masks, bits equal the mask",
          "[cuda_flash][schedule]") {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 60; ++trial) {
    std::uniform_int_distribution<std::int64_t> len(1, 300);
    const std::int64_t sq = len(rng), sk = len(rng);
    const MaskPtr m = test::random_mask(rng, sq, sk);
    const auto dense = test::dense_from_predicate(*m);
    INFO("trial " << trial << " sq=" << sq << " sk=" << sk);
    check_schedule(build_query_major_schedule(*m, 64, 32), sq, sk, dense);
    check_schedule(build_query_major_schedule(*m, ForwardTile::block_q, ForwardTile::block_k), sq, sk, dense);
  }
}

TEST_CASE("backward schedule is the transpose of the forward one, with key-major bits",
          "[cuda_flash][schedule]") {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 60; ++trial) {
    std::uniform_int_distribution<std::int64_t> len(1, 300);
    const std::int64_t sq = len(rng), sk = len(rng);
    const MaskPtr m = test::random_mask(rng, sq, sk);
    const auto dense = test::dense_from_predicate(*m);
    INFO("trial " << trial << " sq=" << sq << " sk=" << sk);
    const auto bq = BackwardTile::block_q, bk = BackwardTile::block_k;
    const TileSchedule fwd = build_query_major_schedule(*m, bq, bk);
    const TileSchedule bwd = build_key_major_schedule(*m, bq, bk);
    REQUIRE(bwd.key_major);
    check_schedule(bwd, sq, sk, dense);
    CHECK(tile_pairs(fwd) == tile_pairs(bwd));
    CHECK(fwd.partial_tiles() == bwd.partial_tiles());
  }
}

TEST_CASE("chunk-pair schedules: a rectangle of the mask, tiled from its origin, bits from the global mask",
          "[cuda_flash][schedule]") {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 60; ++trial) {
    std::uniform_int_distribution<std::int64_t> len(1, 300);
    const std::int64_t S = len(rng);
    const MaskPtr m = test::random_mask(rng, S, S);
    const auto dense = test::dense_from_predicate(*m);
    // A random rectangle, as a CP chunk pair: any origin, any extent inside the mask.
    std::uniform_int_distribution<std::int64_t> pos(0, S - 1);
    const std::int64_t q0 = pos(rng), k0 = pos(rng);
    const std::int64_t nq = std::uniform_int_distribution<std::int64_t>(1, S - q0)(rng);
    const std::int64_t nk = std::uniform_int_distribution<std::int64_t>(1, S - k0)(rng);
    std::vector<std::uint8_t> sub(static_cast<std::size_t>(nq * nk));
    for (std::int64_t i = 0; i < nq; ++i)
      for (std::int64_t j = 0; j < nk; ++j) sub[i * nk + j] = dense[(q0 + i) * S + k0 + j];
    INFO("trial " << trial << " S=" << S << " rect q[" << q0 << "+" << nq << "] k[" << k0 << "+" << nk
                  << "]");
    const Rect r{q0, nq, k0, nk};
    const TileSchedule fwd = build_query_major_schedule(*m, ForwardTile::block_q, ForwardTile::block_k, r);
    const TileSchedule bwd = build_key_major_schedule(*m, BackwardTile::block_q, BackwardTile::block_k, r);
    check_schedule(fwd, nq, nk, sub);
    check_schedule(bwd, nq, nk, sub);
  }
  // The whole mask as a rectangle is the whole-mask schedule.
  const MaskPtr m = test::random_mask(rng, 200, 200);
  const TileSchedule a = build_query_major_schedule(*m, 64, 64);
  const TileSchedule b = build_query_major_schedule(*m, 64, 64, Rect{0, 200, 0, 200});
  CHECK(a.begin == b.begin);
  CHECK(a.tiles == b.tiles);
  CHECK(a.mask_slot == b.mask_slot);
  CHECK(a.bits == b.bits);
  CHECK_THROWS_AS(build_query_major_schedule(*m, 64, 64, Rect{150, 60, 0, 10}), std::invalid_argument);
}

TEST_CASE("causal with Sq != Sk: diagonal tiles partial, tiles below full, padding never allowed",
          "[cuda_flash][schedule]") {
  // Bottom-right aligned causal: k <= q + (Sk - Sq).
  const std::int64_t sq = 200, sk = 330;
  const MaskPtr m = test::mask_from_slices(sq, sk, {{0, sq, 0, sk, SliceType::causal}});
  const auto dense = test::dense_from_predicate(*m);
  const TileSchedule s = build_query_major_schedule(*m, 64, 64);
  check_schedule(s, sq, sk, dense);
  // Query tile 0 (rows 0..63) reaches key 63 + 130 = 193: key tiles 0..3, tiles 0 and 1 full.
  const std::vector<std::int32_t> row0(s.tiles.begin() + s.begin[0], s.tiles.begin() + s.begin[1]);
  CHECK(row0 == std::vector<std::int32_t>{0, 1, 2, 3});
  CHECK(s.mask_slot[0] < 0);
  CHECK(s.mask_slot[1] < 0);
  CHECK(s.mask_slot[2] >= 0);
  // The last query tile holds rows 192..199 only: every one of its tiles is partial.
  for (auto e = s.begin[3]; e < s.begin[4]; ++e) CHECK(s.mask_slot[e] >= 0);
}

TEST_CASE("an empty mask schedules nothing, a full mask of tile multiples needs no bits",
          "[cuda_flash][schedule]") {
  const MaskPtr empty = test::mask_from_slices(100, 70, {});
  const TileSchedule a = build_query_major_schedule(*empty, 64, 64);
  CHECK(a.entries() == 0);
  CHECK(a.begin == std::vector<std::int32_t>{0, 0, 0});

  const MaskPtr full = test::mask_from_slices(256, 128, {{0, 256, 0, 128, SliceType::full}});
  const TileSchedule b = build_key_major_schedule(*full, 64, 64);
  CHECK(b.entries() == 8);
  CHECK(b.partial_tiles() == 0);
  CHECK(b.bits.empty());
}

TEST_CASE("bad tile sizes are refused", "[cuda_flash][schedule]") {
  const MaskPtr m = test::mask_from_slices(10, 10, {{0, 10, 0, 10, SliceType::full}});
  CHECK_THROWS(build_query_major_schedule(*m, 48, 64));
  CHECK_THROWS(build_key_major_schedule(*m, 64, 0));
}
