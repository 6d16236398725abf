// Mask sizes at and past the documented limits: areas exact up to 2^31 tokens per axis, refusals beyond.
#include <catch2/catch.hpp>

#include <string>

#include "attnbench/types.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

__extension__ typedef __int128 Wide;  // the closed forms below, computed where nothing can overflow

constexpr std::int64_t S = kMaxMaskSeqlen;

std::int64_t area(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  return build_mask(spec, sq, sk)->area();
}

std::string error_of(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  try {
    build_mask(spec, sq, sk);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Rows q of causal_sliding_window(w) at S x S allow min(q, w) + 1 keys.
Wide csw_area(Wide s, Wide w) { return w >= s ? s * (s + 1) / 2 : w * (w + 1) / 2 + (s - w) * (w + 1); }

}  // namespace

TEST_CASE("mask areas are exact at the 2^31 limit, where int64 products before halving overflow",
          "[masks][limits]") {
  const Wide s = S;
  CHECK(static_cast<Wide>(area({"full", {}}, S, S)) == s * s);
  CHECK(static_cast<Wide>(area({"causal", {}}, S, S)) == s * (s + 1) / 2);
  for (const std::int64_t w : {std::int64_t{0}, std::int64_t{1024}, S - 1, std::int64_t{1} << 40}) {
    INFO("window " << w);
    const std::string ws = std::to_string(w);
    CHECK(static_cast<Wide>(area({"causal_sliding_window", {{"window", ws}}}, S, S)) == csw_area(s, w));
    // |q - k| <= w: the causal band twice, less the shared diagonal.
    CHECK(static_cast<Wide>(area({"sliding_window", {{"window", ws}}}, S, S)) == 2 * csw_area(s, w) - s);
  }
  for (const std::int64_t p : {std::int64_t{0}, S / 4, S - 1, S}) {
    INFO("prefix " << p);
    const Wide pw = p;  // rows q < p see the p prefix keys; rows q >= p see q + 1 keys
    const Wide expected = p == S ? s * s : pw * pw + (s * (s + 1) - pw * (pw + 1)) / 2;
    CHECK(static_cast<Wide>(area({"prefix_lm_causal", {{"prefix", std::to_string(p)}}}, S, S)) == expected);
  }
  // Bottom-right aligned causal with Sq < Sk: row q sees q + (Sk - Sq) + 1 keys.
  const Wide sq = S / 2;
  CHECK(static_cast<Wide>(area({"causal", {}}, S / 2, S)) == sq * (sq + 1) / 2 + sq * (s - sq));
  CHECK(build_mask({"full", {}}, S, S)->density() == 1.0);
}

TEST_CASE("sequence lengths past 2^31 are refused naming the length and the limit", "[masks][limits]") {
  for (const char* name : {"full", "causal", "causal_document", "block_sparse"}) {
    INFO(name);
    const std::string what = error_of({name, {}}, S + 1, S + 1);
    CHECK_THAT(what, Catch::Contains(std::string("'") + name + "'"));
    CHECK_THAT(what, Catch::Contains(std::to_string(S + 1)));
    CHECK_THAT(what, Catch::Contains("2147483648"));
  }
  CHECK_THAT(error_of({"causal", {}}, 1024, 1000000000000), Catch::Contains("1000000000000"));
  CHECK_THAT(error_of({"causal", {}}, 1000000000000, 1000000000000), Catch::Contains("past the limit"));
  CHECK_THROWS_AS(mask_area({"causal", {}}, S + 1, S + 1), InputError);
}

TEST_CASE("masks of too many pieces are refused instead of exhausting memory", "[masks][limits]") {
  CHECK_THAT(error_of({"block_sparse", {{"block", "1"}}}, 1 << 20, 1 << 20),
             Catch::Contains("2^30 block pairs"));
  CHECK_THAT(error_of({"block_sparse", {}}, S, S), Catch::Contains("'block'"));
  CHECK_THAT(error_of({"var_block_sparse", {{"min_block", "1"}, {"avg_block", "2"}}}, 1 << 20, 1 << 20),
             Catch::Contains("2^30 block pairs"));
  CHECK_THAT(error_of({"causal_document", {{"distribution", "fixed:1"}}}, S, S),
             Catch::Contains("2^24 documents"));
  CHECK_THAT(error_of({"block_causal_document", {{"block", "1"}}}, S, S), Catch::Contains("2^24 documents"));
  // Just inside the block limit still builds (2^15 x 2^15 blocks), and its area stays exact.
  CHECK(mask_area({"block_sparse", {{"block", "32"}, {"keep", "0.5"}}}, 1 << 20, 1 << 20) ==
        (std::int64_t{1} << 20) * (std::int64_t{1} << 14) * 32);
}
