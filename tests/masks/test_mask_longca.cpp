// LongCA-bench's generator rules as mask options (block_sparse / var_block_sparse diagonal, rounding,
// partition, blocks) and the mixture distribution, checked against their definitions on many seeds.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <map>
#include <random>

#include "masks/distributions.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

// Block boundaries along one axis, read from the dense mask: a boundary sits wherever a row
// (query axis) or a column (key axis) differs from its predecessor. Blocks are kept whole, so
// every change is a boundary; with many blocks on the other axis two neighbouring blocks
// almost never share a pattern, so (almost) every boundary shows (callers allow for that).
std::vector<std::int64_t> boundaries(const Mask& m, bool keys) {
  const std::int64_t sq = m.seqlen_q(), sk = m.seqlen_k(), n = keys ? sk : sq;
  std::vector<std::int64_t> starts = {0};
  if (keys) {
    const auto d = m.dense();
    for (std::int64_t x = 1; x < n; ++x)
      for (std::int64_t y = 0; y < sq; ++y)
        if (d[y * sk + x] != d[y * sk + x - 1]) {
          starts.push_back(x);
          break;
        }
  } else {
    std::vector<std::pair<std::int64_t, std::int64_t>> prev, row;
    m.row_ranges(0, prev);
    for (std::int64_t x = 1; x < n; ++x, std::swap(prev, row)) {
      m.row_ranges(x, row);
      if (row != prev) starts.push_back(x);
    }
  }
  starts.push_back(n);
  return starts;
}

MaskPtr var_mask(std::int64_t s, std::int64_t avg, std::int64_t min, double keep, std::uint64_t seed,
                 std::map<std::string, std::string> extra) {
  extra["avg_block"] = std::to_string(avg);
  extra["min_block"] = std::to_string(min);
  extra["keep"] = fmt::format("{}", keep);
  extra["seed"] = std::to_string(seed);
  return build_mask({"var_block_sparse", extra}, s, s);
}

}  // namespace

TEST_CASE(
    "block_sparse rounding: floor keeps max(1, floor(r nkb)) blocks per row, round max(1, round(r nkb))",
    "[masks][longca]") {
  // The issue's example: 8 key blocks, r 0.2 -> 1 block (floor) against 2 (round).
  for (const char* rounding : {"floor", "round"}) {
    const auto m =
        build_mask({"block_sparse", {{"block", "16"}, {"keep", "0.2"}, {"rounding", rounding}}}, 128, 128);
    const auto bm = m->block_map(16, 16);
    for (std::int64_t i = 0; i < 8; ++i) {
      int n = 0;
      for (std::int64_t j = 0; j < 8; ++j) n += bm.at(i, j) == TileKind::full;
      REQUIRE(n == (std::string(rounding) == "floor" ? 1 : 2));
    }
  }
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 60; ++trial) {
    const std::int64_t b = 1 + rng() % 16, sq = 1 + rng() % 400, sk = trial % 2 ? sq : 1 + rng() % 400;
    const double keep = static_cast<double>(1 + rng() % 1000) / 1000.0;
    const bool floor = trial % 3 != 0, diagonal = trial % 4 == 0;
    const MaskSpec spec{"block_sparse",
                        {{"block", std::to_string(b)},
                         {"keep", fmt::format("{}", keep)},
                         {"rounding", floor ? "floor" : "round"},
                         {"diagonal", diagonal ? "true" : "false"},
                         {"seed", std::to_string(trial)}}};
    const auto m = build_mask(spec, sq, sk);
    REQUIRE(mask_area(spec, sq, sk) == m->area());  // the fast area agrees
    const std::int64_t nqb = (sq + b - 1) / b, nkb = (sk + b - 1) / b;
    const double target = keep * static_cast<double>(nkb);
    const std::int64_t kept = std::clamp<std::int64_t>(
        floor ? static_cast<std::int64_t>(std::floor(target)) : std::llround(target), 1, nkb);
    const auto bm = m->block_map(b, b);
    std::int64_t area = 0;
    for (std::int64_t i = 0; i < nqb; ++i) {
      std::int64_t n = 0;
      for (std::int64_t j = 0; j < nkb; ++j) {
        REQUIRE(bm.at(i, j) != TileKind::partial);
        n += bm.at(i, j) == TileKind::full;
        if (bm.at(i, j) == TileKind::full)
          area += (std::min(sq, (i + 1) * b) - i * b) * (std::min(sk, (j + 1) * b) - j * b);
      }
      REQUIRE(n == kept);
    }
    REQUIRE(m->area() == area);
  }
}

TEST_CASE("block_sparse diagonal: forced is always kept, not forced is kept about kept/nkb of the time",
          "[masks][longca]") {
  // 32 x 32 blocks, keep 0.25 -> 8 blocks per row: without forcing, the diagonal is one of
  // them with probability 8/32 (LongCA-bench: 12-49 % depending on r and nkb).
  int rows = 0, with_diagonal = 0, forced_with = 0;
  for (int seed = 0; seed < 25; ++seed) {
    for (const bool forced : {true, false}) {
      const auto m = build_mask({"block_sparse",
                                 {{"block", "4"},
                                  {"keep", "0.25"},
                                  {"diagonal", forced ? "true" : "false"},
                                  {"seed", std::to_string(seed)}}},
                                128, 128);
      const auto bm = m->block_map(4, 4);
      for (std::int64_t i = 0; i < 32; ++i) {
        const bool diag = bm.at(i, i) == TileKind::full;
        if (forced) {
          forced_with += diag;
        } else {
          with_diagonal += diag;
          ++rows;
        }
      }
    }
  }
  REQUIRE(forced_with == rows);
  const double expected = rows * 8.0 / 32.0;  // 800 rows: ~200
  REQUIRE(with_diagonal > 0);
  REQUIRE(with_diagonal < rows);
  REQUIRE(std::abs(with_diagonal - expected) < 5 * std::sqrt(expected));
}

TEST_CASE("block_sparse without a forced diagonal: every block is kept about equally often",
          "[masks][longca]") {
  std::vector<int> hits(32);
  int rows = 0;
  for (int seed = 0; seed < 25; ++seed) {
    const auto m = build_mask({"block_sparse",
                               {{"block", "4"},
                                {"keep", "0.25"},
                                {"diagonal", "false"},
                                {"rounding", "floor"},
                                {"seed", std::to_string(seed)}}},
                              128, 128);
    const auto bm = m->block_map(4, 4);
    for (std::int64_t i = 0; i < 32; ++i, ++rows)
      for (std::int64_t j = 0; j < 32; ++j) hits[(j - i + 32) % 32] += bm.at(i, j) == TileKind::full;
  }
  const double expected = rows * 8.0 / 32.0;
  for (int d = 0; d < 32; ++d) {
    INFO("offset " << d);
    REQUIRE(std::abs(hits[d] - expected) < 5 * std::sqrt(expected));
  }
}

TEST_CASE(
    "var_block_sparse blocks: fixed gives S / avg blocks of min to S - (n - 1) min, random stays within "
    "min to 2 avg - 1 and its merged last block passes 2 avg - min",
    "[masks][longca]") {
  const std::int64_t s = 4096, avg = 96, min = 40;
  std::int64_t largest_random = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    // keep 0.5 over a shared partition: rows differ, so every query boundary shows.
    const auto fixed = var_mask(s, avg, min, 0.5, seed, {{"blocks", "fixed"}});
    const auto q = boundaries(*fixed, false);
    const std::int64_t n = s / avg;
    REQUIRE(static_cast<std::int64_t>(q.size()) - 1 <= n);
    REQUIRE(static_cast<std::int64_t>(q.size()) - 1 >= n - 1);  // two identical neighbour rows hide one
    for (std::size_t i = 0; i + 1 < q.size(); ++i) {
      REQUIRE(q[i + 1] - q[i] >= min);
      REQUIRE(q[i + 1] - q[i] <= s - (n - 1) * min + min);  // + min: one hidden boundary at most
    }
    const auto random = var_mask(s, avg, min, 0.5, seed, {});
    const auto r = boundaries(*random, false);
    for (std::size_t i = 0; i + 1 < r.size(); ++i) {
      REQUIRE(r[i + 1] - r[i] >= min);
      if (r.size() > 3) largest_random = std::max(largest_random, r.back() - r[r.size() - 2]);
    }
  }
  // The merged last block exceeds the drawn maximum 2 avg - min = 152 on some seed, never 2 avg - 1.
  REQUIRE(largest_random > 2 * avg - min);
  REQUIRE(largest_random <= 2 * avg - 1);
}

TEST_CASE("var_block_sparse fixed blocks: the block sizes are exact, from the parameters alone",
          "[masks][longca]") {
  // keep 1 keeps every block, so the area says nothing; keep = 1/n keeps one key block per row:
  // the sizes are then visible as the row widths, and each is in [min, S - (n - 1) min].
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const std::int64_t s = 2000, avg = 250, min = 100, n = s / avg;
    const auto m = var_mask(s, avg, min, 1.0 / static_cast<double>(n), seed,
                            {{"blocks", "fixed"}, {"diagonal", "false"}, {"rounding", "floor"}});
    std::int64_t rows_total = 0;
    for (const auto& sl : m->slices()) {
      REQUIRE(sl.q_end - sl.q_begin >= min);
      REQUIRE(sl.k_end - sl.k_begin >= min);
      REQUIRE(sl.k_end - sl.k_begin <= s - (n - 1) * min);
      rows_total += sl.q_end - sl.q_begin;
    }
    REQUIRE(static_cast<std::int64_t>(m->slices().size()) == n);  // one kept block per query block
    REQUIRE(rows_total == s);
  }
}

TEST_CASE("var_block_sparse partition: shared uses the query blocks for keys, independent draws its own",
          "[masks][longca]") {
  int differ = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (const char* blocks : {"random", "fixed"}) {
      const auto shared = var_mask(1024, 64, 32, 0.5, seed, {{"blocks", blocks}});
      REQUIRE(boundaries(*shared, false) == boundaries(*shared, true));
      const auto independent =
          var_mask(1024, 64, 32, 0.5, seed, {{"blocks", blocks}, {"partition", "independent"}});
      // The query partition is the same draw either way; the keys get a different one.
      REQUIRE(boundaries(*independent, false) == boundaries(*shared, false));
      differ += boundaries(*independent, true) != boundaries(*independent, false);
    }
  }
  REQUIRE(differ == 40);
}

TEST_CASE(
    "var_block_sparse with LongCA-bench's rules: int(r n) whole key blocks per row, diagonal sometimes "
    "absent",
    "[masks][longca]") {
  // S 1024, avg 256, min 128: n = 4 blocks each way; keep 0.5 -> int(2.0) = 2 key blocks per row.
  int without_diagonal = 0;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const MaskSpec spec{"var_block_sparse",
                        {{"avg_block", "256"},
                         {"min_block", "128"},
                         {"keep", "0.5"},
                         {"seed", std::to_string(seed)},
                         {"partition", "independent"},
                         {"blocks", "fixed"},
                         {"diagonal", "false"},
                         {"rounding", "floor"}}};
    const auto m = build_mask(spec, 1024, 1024);
    REQUIRE(mask_area(spec, 1024, 1024) == m->area());
    // The key partition (seen through the keys' boundaries, which can hide a few) has 4 blocks.
    const auto kb = boundaries(*m, true);
    REQUIRE(kb.size() <= 5);
    // Each row is the union of two whole key blocks: its width is the sum of two block widths.
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    std::int64_t area = 0;
    for (std::int64_t q = 0; q < 1024; ++q) {
      m->row_ranges(q, ranges);
      std::int64_t width = 0;
      for (auto [lo, hi] : ranges) width += hi - lo;
      REQUIRE(width >= 2 * 128);
      REQUIRE(width <= 1024 - 2 * 128);
      area += width;
    }
    REQUIRE(area == m->area());
    // Query 0 sits over key block 0: without a forced diagonal it is absent on some seeds.
    without_diagonal += !m->allowed(0, 0);
  }
  REQUIRE(without_diagonal > 0);
  REQUIRE(without_diagonal < 30);
}

TEST_CASE("mask parameters of the LongCA-bench rules: bad values name the field and the accepted values",
          "[masks][longca][errors]") {
  const auto error_of = [](const MaskSpec& spec) -> std::string {
    try {
      build_mask(spec, 256, 256);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  const auto e1 = error_of({"block_sparse", {{"rounding", "ceil"}}});
  REQUIRE(e1.find("'rounding'") != std::string::npos);
  REQUIRE(e1.find("round, floor") != std::string::npos);
  const auto e2 = error_of({"var_block_sparse", {{"diagonal", "yes"}}});
  REQUIRE(e2.find("'diagonal'") != std::string::npos);
  REQUIRE(e2.find("true, false") != std::string::npos);
  const auto e3 = error_of({"var_block_sparse", {{"partition", "split"}}});
  REQUIRE(e3.find("shared, independent") != std::string::npos);
  const auto e4 = error_of({"var_block_sparse", {{"blocks", "even"}}});
  REQUIRE(e4.find("random, fixed") != std::string::npos);
  // The resolved parameters carry every option, so a row says which rules made it.
  const auto m = build_mask({"var_block_sparse", {{"blocks", "fixed"}, {"rounding", "floor"}}}, 256, 256);
  REQUIRE(m->params_json().find(R"("blocks":"fixed")") != std::string::npos);
  REQUIRE(m->params_json().find(R"("partition":"shared")") != std::string::npos);
  REQUIRE(m->params_json().find(R"("diagonal":true)") != std::string::npos);
  REQUIRE(m->params_json().find(R"("rounding":"floor")") != std::string::npos);
}

TEST_CASE("mixture distribution: each part fills its share, documents shuffled, reproducible",
          "[masks][longca]") {
  masks::Distribution long_docs{"uniform", 8192, 30720};
  masks::Distribution mix{"mixture"};
  mix.parts = {{"pile"}, long_docs};
  mix.shares = {0.4, 0.6};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::int64_t total = 8192 * 8;
    const auto lengths = masks::sample_lengths(mix, seed, total);
    REQUIRE(std::accumulate(lengths.begin(), lengths.end(), std::int64_t{0}) == total);
    REQUIRE(lengths == masks::sample_lengths(mix, seed, total));
    // Long documents (> pile's short ones here) hold about 60 % of the tokens: between 60 % minus
    // one truncated long document and 60 % plus one short document beyond 14208 tokens.
    std::int64_t long_tokens = 0;
    for (auto l : lengths) long_tokens += l >= 8192 ? l : 0;
    REQUIRE(long_tokens <= total - static_cast<std::int64_t>(0.4 * total) + 30720);
    REQUIRE(long_tokens >= total - static_cast<std::int64_t>(0.4 * total) - 8192);
  }
  // Shuffled: unshuffled, every short document would precede every long one.
  int long_before_short = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto lengths = masks::sample_lengths(mix, seed, 65536);
    const auto first_long = std::find_if(lengths.begin(), lengths.end(), [](auto l) { return l >= 8192; });
    long_before_short += std::any_of(first_long, lengths.end(), [](auto l) { return l < 8192; });
  }
  REQUIRE(long_before_short > 10);
  REQUIRE(
      mix.to_json() ==
      R"({"mixture":[{"share":0.4,"distribution":"pile"},{"share":0.6,"distribution":{"uniform":{"min":8192,"max":30720}}}]})");
}

TEST_CASE("mixture distribution from a mask parameter, and its errors", "[masks][longca][errors]") {
  const std::string text =
      "{mixture: [{share: 0.4, distribution: pile}, {share: 0.6, distribution: {uniform: {min: 8192, max: "
      "30720}}}]}";
  const auto m = build_mask({"causal_document", {{"distribution", text}, {"seed", "3"}}}, 65536, 65536);
  REQUIRE(m->params_json().find(R"("distribution":{"mixture":)") != std::string::npos);
  const auto error_of = [](const std::string& dist) -> std::string {
    try {
      build_mask({"full_document", {{"distribution", dist}}}, 1000, 1000);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  REQUIRE(error_of("{mixture: [{share: 0.5, distribution: pile}]}").find("sum to 0.5") != std::string::npos);
  REQUIRE(error_of("{mixture: [{share: 1, distribution: nope}]}").find("'nope' is unknown") !=
          std::string::npos);
  REQUIRE(error_of("{mixture: []}").find("non-empty list") != std::string::npos);
  REQUIRE(error_of("{mixture: [{share: 1, distribution: {mixture: [{share: 1, distribution: pile}]}}]}")
              .find("cannot be mixtures") != std::string::npos);
  REQUIRE(error_of("{mixture: [{share: 1.5, distribution: pile}, {share: -0.5, distribution: pile}]}")
              .find("outside (0, 1]") != std::string::npos);
}
