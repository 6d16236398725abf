// Closed-form identities of the masks, the block-sparse contract and the document sampler.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "masks/distributions.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

std::vector<std::int64_t> doc_lengths_of(const Mask& m) {
  for (const auto& [k, v] : m.params())
    if (k == "doc_lengths") return nlohmann::json::parse(v).get<std::vector<std::int64_t>>();
  FAIL("no doc_lengths in " << m.params_json());
  return {};
}

std::int64_t triangle(std::int64_t n) { return n * (n + 1) / 2; }

}  // namespace

TEST_CASE("full and causal areas have their closed forms, also when Sq != Sk", "[masks][identity]") {
  for (auto [sq, sk] :
       {std::pair<std::int64_t, std::int64_t>{1000, 1000}, {300, 1000}, {1000, 300}, {1, 7}}) {
    REQUIRE(build_mask({"full", {}}, sq, sk)->area() == sq * sk);
    // Bottom-right aligned: row q sees keys 0 .. q + Sk - Sq.
    std::int64_t causal = 0;
    for (std::int64_t q = 0; q < sq; ++q) causal += std::clamp<std::int64_t>(q + sk - sq + 1, 0, sk);
    REQUIRE(build_mask({"causal", {}}, sq, sk)->area() == causal);
  }
  REQUIRE(build_mask({"causal", {}}, 1 << 20, 1 << 20)->area() == triangle(1 << 20));
}

TEST_CASE("sliding window areas: a band of width 2w+1 minus the two clipped corners", "[masks][identity]") {
  for (std::int64_t s : {100, 4096}) {
    for (std::int64_t w : {0, 1, 17, 99, 5000}) {
      const std::int64_t ww = std::min(w, s - 1);
      const std::int64_t corner = triangle(ww);  // missing pairs in one clipped corner
      const auto sw = build_mask({"sliding_window", {{"window", std::to_string(w)}}}, s, s);
      REQUIRE(sw->area() == s * (2 * ww + 1) - 2 * corner);
      const auto csw = build_mask({"causal_sliding_window", {{"window", std::to_string(w)}}}, s, s);
      REQUIRE(csw->area() == s * (ww + 1) - corner);
    }
  }
}

TEST_CASE("document masks: squares, triangles, the question and the last document", "[masks][identity]") {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const std::string seed = std::to_string(rng() % 10000);
    const std::int64_t s = 1 + static_cast<std::int64_t>(rng() % 20000);
    const auto full = build_mask({"full_document", {{"seed", seed}}}, s, s);
    const auto causal = build_mask({"causal_document", {{"seed", seed}}}, s, s);
    const auto share = build_mask({"share_question", {{"seed", seed}}}, s, s);
    const auto blockwise = build_mask({"causal_blockwise", {{"seed", seed}}}, s, s);
    const auto docs = doc_lengths_of(*full);
    REQUIRE(doc_lengths_of(*causal) == docs);  // same seed, same documents
    std::int64_t squares = 0, triangles = 0, total = 0;
    for (auto l : docs) {
      squares += l * l;
      triangles += triangle(l);
      total += l;
    }
    REQUIRE(total == s);
    REQUIRE(full->area() == squares);
    REQUIRE(causal->area() == triangles);
    // Every token after the question also sees the whole question.
    REQUIRE(share->area() == triangles + (s - docs.front()) * docs.front());
    // Every token of the last document also sees every earlier document.
    REQUIRE(blockwise->area() == triangles + docs.back() * (s - docs.back()));
  }
}

TEST_CASE("prefix LM areas: causal plus the prefix's upper part", "[masks][identity]") {
  const std::int64_t s = 5000;
  for (std::int64_t p : {0, 1, 1250, 4999, 5000}) {
    const auto m = build_mask({"prefix_lm_causal", {{"prefix", std::to_string(p)}}}, s, s);
    // Row q sees max(q + 1, P) keys.
    REQUIRE(m->area() == triangle(s) - triangle(p) + p * p);
  }
  REQUIRE(build_mask({"prefix_lm_causal", {}}, 4000, 4000)->params_json() == R"({"prefix":1000})");
  const auto doc =
      build_mask({"prefix_lm_document", {{"prefix", "3"}, {"doc_lengths", "[2, 5, 10]"}}}, 17, 17);
  // Per document of length l: triangle(l) - triangle(p') + p'^2, p' = min(p, l).
  std::int64_t expected = 0;
  for (std::int64_t l : {2, 5, 10}) {
    const std::int64_t pp = std::min<std::int64_t>(3, l);
    expected += triangle(l) - triangle(pp) + pp * pp;
  }
  REQUIRE(doc->area() == expected);
}

TEST_CASE("global sliding window: global rows and columns plus the band outside them", "[masks][identity]") {
  const std::int64_t s = 3000, g = 100, w = 50;
  const auto m = build_mask({"global_sliding_window", {{"global", "100"}, {"window", "50"}}}, s, s);
  std::int64_t expected = g * s;  // global rows
  for (std::int64_t q = g; q < s; ++q) expected += g + (std::min(s - 1, q + w) - std::max(g, q - w) + 1);
  REQUIRE(m->area() == expected);
}

TEST_CASE("block_causal_document: documents of 1-8 whole blocks, lower block triangles",
          "[masks][identity]") {
  for (int seed = 0; seed < 10; ++seed) {
    const std::int64_t b = 16 + seed, s = 4096;
    const auto m = build_mask(
        {"block_causal_document", {{"block", std::to_string(b)}, {"seed", std::to_string(seed)}}}, s, s);
    const auto docs = doc_lengths_of(*m);
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (i + 1 < docs.size()) {
        REQUIRE(docs[i] % b == 0);
        REQUIRE(docs[i] / b >= 1);
        REQUIRE(docs[i] / b <= 8);
      }
      // Block row r of a document of n tokens sees (r + 1) blocks, cut at the document end.
      for (std::int64_t r = 0; r * b < docs[i]; ++r)
        expected += std::min(b, docs[i] - r * b) * std::min(docs[i], (r + 1) * b);
    }
    REQUIRE(m->area() == expected);
  }
}

TEST_CASE(
    "block_sparse keeps exactly max(1, round(keep * nkb)) key blocks per query block, diagonal included",
    "[masks][block_sparse]") {
  std::mt19937_64 rng(9);
  for (int trial = 0; trial < 40; ++trial) {
    const std::int64_t b = 1 + rng() % 64, sq = 1 + rng() % 1500;
    const std::int64_t sk = trial % 2 ? sq : 1 + rng() % 1500;
    const double keep = static_cast<double>(1 + rng() % 1000) / 1000.0;
    const auto m = build_mask(
        {"block_sparse",
         {{"block", std::to_string(b)}, {"keep", fmt::format("{}", keep)}, {"seed", std::to_string(trial)}}},
        sq, sk);
    const std::int64_t nqb = (sq + b - 1) / b, nkb = (sk + b - 1) / b;
    const std::int64_t kept = std::max<std::int64_t>(1, std::llround(keep * static_cast<double>(nkb)));
    const auto bm = m->block_map(b, b);
    for (std::int64_t i = 0; i < nqb; ++i) {
      std::int64_t n = 0;
      for (std::int64_t j = 0; j < nkb; ++j) {
        // Kept blocks are allowed as a whole: full tiles, never partial.
        REQUIRE(bm.at(i, j) != TileKind::partial);
        n += bm.at(i, j) == TileKind::full;
      }
      REQUIRE(n == kept);
      const std::int64_t diag =
          std::clamp<std::int64_t>(std::max<std::int64_t>(0, i * b + sk - sq) / b, 0, nkb - 1);
      REQUIRE(bm.at(i, diag) == TileKind::full);
    }
  }
}

TEST_CASE("block_sparse choices are uniform: every off-diagonal block is kept about equally often",
          "[masks][block_sparse]") {
  // 64 x 64 blocks, keep 0.25: each off-diagonal block kept with probability 15/63.
  std::vector<int> hits(64);
  int rows = 0;
  for (int seed = 0; seed < 20; ++seed) {
    const auto m = build_mask(
        {"block_sparse", {{"block", "4"}, {"keep", "0.25"}, {"seed", std::to_string(seed)}}}, 256, 256);
    const auto bm = m->block_map(4, 4);
    for (std::int64_t i = 0; i < 64; ++i, ++rows)
      for (std::int64_t j = 0; j < 64; ++j)
        if (j != i && bm.at(i, j) == TileKind::full) ++hits[(j - i + 64) % 64];
  }
  const double expected = rows * 15.0 / 63.0;  // 1280 rows: ~305 per offset
  for (int d = 1; d < 64; ++d) {
    INFO("offset " << d);
    REQUIRE(std::abs(hits[d] - expected) < 5 * std::sqrt(expected));
  }
}

TEST_CASE("var_block_sparse blocks: sizes >= min_block with mean near avg_block", "[masks][block_sparse]") {
  const auto m = build_mask({"var_block_sparse", {{"avg_block", "100"}, {"min_block", "40"}, {"keep", "1"}}},
                            100000, 100000);
  // keep = 1 keeps everything.
  REQUIRE(m->area() == 100000LL * 100000LL);
  const auto sparse = build_mask(
      {"var_block_sparse", {{"avg_block", "100"}, {"min_block", "40"}, {"keep", "0.3"}}}, 20000, 20000);
  // Recover the boundaries from the slices' query ranges.
  std::vector<std::int64_t> starts;
  for (const auto& s : sparse->slices()) starts.push_back(s.q_begin);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  starts.push_back(20000);
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) REQUIRE(starts[i + 1] - starts[i] >= 40);
  const double mean = 20000.0 / static_cast<double>(starts.size() - 1);
  REQUIRE(mean == Approx(100).epsilon(0.1));
  REQUIRE(sparse->density() == Approx(0.3).epsilon(0.05));
}

TEST_CASE("sampled documents: fill the sequence, never empty, inside the histogram's buckets",
          "[masks][documents]") {
  for (const char* name : {"pile", "prolong64k", "prolong512k"}) {
    const auto buckets = masks::histogram_buckets(name);
    REQUIRE(!buckets.empty());
    std::int64_t weight = 0;
    for (const auto& b : buckets) weight += b.weight_ppm;
    REQUIRE(weight > 999000);
    REQUIRE(weight <= 1000000);
    for (std::uint64_t seed : {0, 1, 99}) {
      const auto lengths = masks::sample_lengths({name}, seed, 1 << 20);
      REQUIRE(std::accumulate(lengths.begin(), lengths.end(), std::int64_t{0}) == (1 << 20));
      for (std::size_t i = 0; i < lengths.size(); ++i) {
        REQUIRE(lengths[i] >= 1);
        REQUIRE(lengths[i] < buckets.back().hi);
      }
      REQUIRE(lengths == masks::sample_lengths({name}, seed, 1 << 20));  // reproducible
    }
    REQUIRE(masks::sample_lengths({name}, 1, 1 << 16) != masks::sample_lengths({name}, 2, 1 << 16));
  }
  // The Pile's median document is a few hundred tokens: check the sampler follows the weights.
  auto lengths = masks::sample_lengths({"pile"}, 4, 1 << 22);
  lengths.pop_back();
  std::sort(lengths.begin(), lengths.end());
  const auto median = lengths[lengths.size() / 2];
  REQUIRE(median > 200);
  REQUIRE(median < 450);
  const auto fixed = masks::sample_lengths({"fixed", 0, 0, 300}, 0, 1000);
  REQUIRE(fixed == std::vector<std::int64_t>{300, 300, 300, 100});
  const auto uni = masks::sample_lengths({"uniform", 5, 9}, 3, 10000);
  for (std::size_t i = 0; i + 1 < uni.size(); ++i) REQUIRE((uni[i] >= 5 && uni[i] <= 9));
}

TEST_CASE("the document sampler is portable: fixed seeds give fixed lengths", "[masks][documents]") {
  // Golden values: a change here changes every recorded result row that sampled documents.
  // Expected values printed by tests/masks/golden_doc_lengths.py, an independent Python
  // implementation of the generator and sampler.
  REQUIRE(fmt::format("{}", fmt::join(masks::sample_lengths({"pile"}, 7, 2000), ",")) == "456,1054,490");
  REQUIRE(fmt::format("{}", fmt::join(masks::sample_lengths({"prolong64k"}, 1, 5000), ",")) ==
          "656,460,612,76,1155,2006,35");
}
