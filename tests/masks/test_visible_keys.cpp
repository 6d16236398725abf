// visible_key_count against a dense count of the columns with any allowed entry, on every mask and closed
// forms.
#include <catch2/catch.hpp>

#include <random>

#include "masks/library.hpp"
#include "masks/visible_keys.hpp"
#include "random_specs.hpp"

using namespace attnbench;

namespace {

std::int64_t dense_visible_keys(const Mask& m) {
  const auto d = m.dense();
  std::int64_t n = 0;
  for (std::int64_t k = 0; k < m.seqlen_k(); ++k)
    for (std::int64_t q = 0; q < m.seqlen_q(); ++q)
      if (d[q * m.seqlen_k() + k]) {
        ++n;
        break;
      }
  return n;
}

}  // namespace

TEST_CASE("visible keys equal the dense count on random parameters of every mask", "[masks][property]") {
  std::mt19937_64 rng(23);
  for (const auto& name : mask_names()) {
    DYNAMIC_SECTION(name) {
      for (int trial = 0; trial < 12; ++trial) {
        const auto c = test::random_case(name, rng, trial < 2 ? 700 : 97);
        const auto mask = build_mask(c.spec, c.seqlen_q, c.seqlen_k);
        INFO("Sq=" << c.seqlen_q << " Sk=" << c.seqlen_k << " " << mask->params_json());
        REQUIRE(masks::visible_key_count(*mask) == dense_visible_keys(*mask));
      }
    }
  }
}

TEST_CASE("visible keys in closed form", "[masks]") {
  // Causal, Sq = Sk: the last query sees every key.
  CHECK(masks::visible_key_count(*build_mask({"causal", {}}, 64, 64)) == 64);
  // Causal cross-attention with Sq > Sk (bottom-right aligned): every key still visible.
  CHECK(masks::visible_key_count(*build_mask({"causal", {}}, 96, 32)) == 32);
  // Sliding window over Sq = Sk: the window slides to the last key.
  CHECK(masks::visible_key_count(*build_mask({"causal_sliding_window", {{"window", "8"}}}, 64, 64)) == 64);
  // The same window with Sq = 16 < Sk = 64: queries sit on keys 48..63 and see 8 back,
  // so keys 0..39 are invisible: 16 + 8 keys are read.
  CHECK(masks::visible_key_count(*build_mask({"causal_sliding_window", {{"window", "8"}}}, 16, 64)) == 24);
  // Causal documents: each document's last query sees all of its keys.
  CHECK(masks::visible_key_count(*build_mask({"causal_document", {{"doc_lengths", "[10,20,34]"}}}, 64, 64)) ==
        64);
}
