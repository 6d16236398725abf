// Property tests: for every mask, random parameters and seeds, each derived form agrees with the predicate.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>

#include "masks/library.hpp"
#include "random_specs.hpp"

using namespace attnbench;

namespace {

std::vector<std::uint8_t> dense_from_predicate(const Mask& m) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(m.seqlen_q() * m.seqlen_k()));
  for (std::int64_t q = 0; q < m.seqlen_q(); ++q)
    for (std::int64_t k = 0; k < m.seqlen_k(); ++k) out[q * m.seqlen_k() + k] = m.allowed(q, k) ? 1 : 0;
  return out;
}

std::int64_t popcount(const std::vector<std::uint8_t>& d, std::int64_t width, std::int64_t q0,
                      std::int64_t nq, std::int64_t k0, std::int64_t nk) {
  std::int64_t n = 0;
  for (std::int64_t q = q0; q < q0 + nq; ++q)
    for (std::int64_t k = k0; k < k0 + nk; ++k) n += d[q * width + k];
  return n;
}

// Every tile's kind matches the dense cells it covers, and the compressed rows list exactly
// the non-empty tiles.
void check_block_map(const BlockMap& bm, const std::vector<std::uint8_t>& dense, std::int64_t width) {
  REQUIRE(bm.row_begin.size() == static_cast<std::size_t>(bm.q_tiles + 1));
  for (std::int64_t qt = 0; qt < bm.q_tiles; ++qt) {
    std::int64_t listed = bm.row_begin[qt];
    for (std::int64_t kt = 0; kt < bm.k_tiles; ++kt) {
      const std::int64_t q0 = bm.q_origin + qt * bm.bq, q1 = std::min(bm.q_origin + bm.nq, q0 + bm.bq);
      const std::int64_t k0 = bm.k_origin + kt * bm.bk, k1 = std::min(bm.k_origin + bm.nk, k0 + bm.bk);
      const std::int64_t ones = popcount(dense, width, q0, q1 - q0, k0, k1 - k0);
      const std::int64_t cells = (q1 - q0) * (k1 - k0);
      const TileKind expected = ones == 0       ? TileKind::empty
                                : ones == cells ? TileKind::full
                                                : TileKind::partial;
      INFO("tile " << qt << "," << kt);
      REQUIRE(bm.at(qt, kt) == expected);
      if (expected != TileKind::empty) {
        REQUIRE(listed < bm.row_begin[qt + 1]);
        REQUIRE(bm.cols[listed] == kt);
        REQUIRE((bm.full[listed] != 0) == (expected == TileKind::full));
        ++listed;
      }
    }
    REQUIRE(listed == bm.row_begin[qt + 1]);
  }
}

void check_varlen(const Mask& m) {
  const auto& v = *m.varlen();
  REQUIRE(m.seqlen_q() == m.seqlen_k());
  REQUIRE(v.cu_seqlens.front() == 0);
  REQUIRE(v.cu_seqlens.back() == m.seqlen_q());
  REQUIRE(std::is_sorted(v.cu_seqlens.begin(), v.cu_seqlens.end()));
  auto segment = [&](std::int64_t t) {
    return std::upper_bound(v.cu_seqlens.begin(), v.cu_seqlens.end(), t) - v.cu_seqlens.begin();
  };
  for (std::int64_t q = 0; q < m.seqlen_q(); ++q)
    for (std::int64_t k = 0; k < m.seqlen_k(); ++k) {
      const bool in_window =
          (v.window_left < 0 || q - k <= v.window_left) && (v.window_right < 0 || k - q <= v.window_right);
      const bool varlen_allows = segment(q) == segment(k) && in_window;
      if (varlen_allows != m.allowed(q, k)) FAIL("varlen differs at q=" << q << " k=" << k);
    }
}

void check_mask_forms(const Mask& m, std::mt19937_64& rng) {
  const std::int64_t sq = m.seqlen_q(), sk = m.seqlen_k();
  const auto expected = dense_from_predicate(m);
  const auto dense = m.dense();
  REQUIRE(dense.size() == expected.size());
  if (dense != expected) {
    for (std::int64_t q = 0; q < sq; ++q)
      for (std::int64_t k = 0; k < sk; ++k)
        if (dense[q * sk + k] != expected[q * sk + k])
          FAIL("slices differ from the predicate at q=" << q << " k=" << k << " (predicate "
                                                        << int(expected[q * sk + k]) << ")");
  }
  const std::int64_t ones = std::accumulate(expected.begin(), expected.end(), std::int64_t{0});
  REQUIRE(m.area() == ones);
  REQUIRE(m.density() == Approx(static_cast<double>(ones) / static_cast<double>(sq * sk)));

  std::uniform_int_distribution<std::int64_t> tile(1, 96);
  check_block_map(m.block_map(tile(rng), tile(rng)), expected, sk);
  // A sub-rectangle, as a context-parallel rank sees it.
  const std::int64_t q0 = std::uniform_int_distribution<std::int64_t>(0, sq - 1)(rng);
  const std::int64_t k0 = std::uniform_int_distribution<std::int64_t>(0, sk - 1)(rng);
  const std::int64_t nq = std::uniform_int_distribution<std::int64_t>(1, sq - q0)(rng);
  const std::int64_t nk = std::uniform_int_distribution<std::int64_t>(1, sk - k0)(rng);
  check_block_map(m.block_map(tile(rng), tile(rng), q0, nq, k0, nk), expected, sk);
  REQUIRE(m.area_in(q0, nq, k0, nk) == popcount(expected, sk, q0, nq, k0, nk));
  std::vector<std::uint8_t> sub(static_cast<std::size_t>(nq * nk));
  m.fill_tile(q0, nq, k0, nk, sub.data());
  for (std::int64_t q = 0; q < nq; ++q)
    for (std::int64_t k = 0; k < nk; ++k) REQUIRE(sub[q * nk + k] == expected[(q0 + q) * sk + k0 + k]);

  if (m.varlen()) check_varlen(m);
}

}  // namespace

TEST_CASE("every derived form of every mask agrees with its predicate on random parameters",
          "[masks][property]") {
  for (const auto& name : mask_names()) {
    DYNAMIC_SECTION(name) {
      std::mt19937_64 rng(std::hash<std::string>{}(name) % 1000 + 17);
      for (int trial = 0; trial < 30; ++trial) {
        const std::int64_t max_seqlen = trial < 2 ? 2048 : trial < 10 ? 600 : 97;
        const auto c = test::random_case(name, rng, max_seqlen);
        INFO("Sq=" << c.seqlen_q << " Sk=" << c.seqlen_k);
        for (const auto& [k, v] : c.spec.params) INFO(k << "=" << v);
        const auto mask = build_mask(c.spec, c.seqlen_q, c.seqlen_k);
        INFO("resolved " << mask->params_json());
        check_mask_forms(*mask, rng);
        // The fast area agrees with the built mask.
        REQUIRE(mask_area(c.spec, c.seqlen_q, c.seqlen_k) == mask->area());
      }
    }
  }
}

TEST_CASE("resolved parameters rebuild the same mask", "[masks][property]") {
  std::mt19937_64 rng(5);
  for (const auto& name : mask_names()) {
    DYNAMIC_SECTION(name) {
      for (int trial = 0; trial < 4; ++trial) {
        const auto c = test::random_case(name, rng, 400);
        const auto mask = build_mask(c.spec, c.seqlen_q, c.seqlen_k);
        MaskSpec again{name, {}};
        for (const auto& [k, v] : mask->params()) again.params[k] = v;
        const auto rebuilt = build_mask(again, c.seqlen_q, c.seqlen_k);
        REQUIRE(rebuilt->params_json() == mask->params_json());
        REQUIRE(rebuilt->dense() == mask->dense());
      }
    }
  }
}

TEST_CASE("slices of every mask are disjoint: the area is the sum of slice areas", "[masks][property]") {
  std::mt19937_64 rng(11);
  for (const auto& name : mask_names()) {
    const auto c = test::random_case(name, rng, 300);
    const auto mask = build_mask(c.spec, c.seqlen_q, c.seqlen_k);
    std::vector<int> cover(static_cast<std::size_t>(c.seqlen_q * c.seqlen_k));
    for (const auto& s : mask->slices())
      for (std::int64_t q = s.q_begin; q < s.q_end; ++q) {
        const auto [lo, hi] = s.row_range(q);
        for (std::int64_t k = lo; k < hi; ++k) ++cover[q * c.seqlen_k + k];
      }
    INFO(name);
    REQUIRE(*std::max_element(cover.begin(), cover.end()) <= 1);
  }
}
