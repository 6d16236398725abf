// What a strong ALiBi bias must do to each probability-scored selector: keep what lies nearest the
// diagonal, as the biased attention the kernels compute does; without the bias the choice differs.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "harness/inputs.hpp"
#include "harness/select/select.hpp"
#include "harness/selection_quality.hpp"
#include "tests/select/brute_force.hpp"

using namespace attnbench;

namespace {

// One head with the ALiBi slope of head 0 of 8, 1/2: each key further from the query costs a factor
// e^-0.5 and a block of 32 keys e^-16. Q is scaled by 0.05 so the scores' own spread (about 0.05) cannot
// outweigh one step of the bias: the bias decides. The same inputs without the bias leave the scores
// nearly flat, and the choice falls elsewhere.
struct Strong {
  Problem p;
  Inputs in;
  MaskPtr head0;  // the selection of the one (batch, head)
};

Strong strong_alibi(const MaskSpec& spec, std::int64_t s, bool bias) {
  Strong c{brute::make_case(spec, {1, 1, 1, s, s, "causal"}, 4, "none"), {}, {}};
  if (bias) c.p.bias = Bias::alibi(8, s, s);  // value(0, q, k) reads the slope of head 0 of 8
  c.in = generate_inputs(c.p);
  for (auto& x : c.in.q) x *= 0.05f;
  c.head0 = select_masks(c.p, c.in)[0];
  return c;
}

// Pairs of head 0 (over rows [0, rows) under the causal base) where the selection and `want` differ.
std::int64_t differences(const Mask& sel, std::int64_t rows,
                         const std::function<bool(std::int64_t, std::int64_t)>& want) {
  std::int64_t n = 0;
  for (std::int64_t q = 0; q < rows; ++q)
    for (std::int64_t k = 0; k <= q; ++k) n += sel.allowed(q, k) != want(q, k);
  return n;
}

}  // namespace

TEST_CASE(
    "topk_blocks under a strong ALiBi bias keeps the key blocks nearest the diagonal (oracle and pooled)") {
  for (const char* score : {"oracle", "pooled"}) {
    const MaskSpec spec{"topk_blocks", {{"block", "32"}, {"keep", "0.4"}, {"score", score}}};
    const auto nearest = [](std::int64_t q,
                            std::int64_t k) {  // the max(1, round(0.4 (t+1))) blocks t, t-1, ...
      const std::int64_t t = q / 32, want = std::max<std::int64_t>(1, std::llround(0.4 * double(t + 1)));
      return k / 32 > t - want;
    };
    INFO(score);
    REQUIRE(differences(*strong_alibi(spec, 256, true).head0, 256, nearest) == 0);
    REQUIRE(differences(*strong_alibi(spec, 256, false).head0, 256, nearest) > 0);
  }
}

TEST_CASE(
    "vertical_slash under a strong ALiBi bias keeps the nearest diagonals and the last queries' columns") {
  // The last 16 queries' mass lies on keys 240..255 and on diagonals 0, 1, 2 (k = q, q-1, q-2): rows before
  // the last diagonal block (224) keep exactly their diagonal block and those three diagonals.
  const MaskSpec spec{"vertical_slash",
                      {{"block", "32"}, {"last_q", "16"}, {"vertical", "4"}, {"slash", "3"}}};
  const auto want = [](std::int64_t q, std::int64_t k) { return k / 32 == q / 32 || q - k < 3; };
  REQUIRE(differences(*strong_alibi(spec, 256, true).head0, 224, want) == 0);
  REQUIRE(differences(*strong_alibi(spec, 256, false).head0, 224, want) > 0);
}

TEST_CASE("recycled under a strong ALiBi bias recycles the keys nearest the full row") {
  // The full row r0's top 5 keys are r0-4..r0, so every row q of its stride keeps [r0-4, q].
  const MaskSpec spec{"recycled", {{"block", "1"}, {"stride", "8"}, {"topk", "5"}}};
  const auto want = [](std::int64_t q, std::int64_t k) { return q % 8 == 0 || k >= q / 8 * 8 - 4; };
  REQUIRE(differences(*strong_alibi(spec, 128, true).head0, 128, want) == 0);
  REQUIRE(differences(*strong_alibi(spec, 128, false).head0, 128, want) > 0);
}

TEST_CASE("token_keep under a strong ALiBi bias keeps the keys at each pooled query block's centre") {
  // The pooled query of block [q0, q0+32) reads the bias at its middle row q0+15; 24 kept keys of 256 are
  // that row and its two neighbours in each of the 8 blocks.
  const MaskSpec spec{"token_keep", {{"block", "32"}, {"keep", "0.09375"}}};
  const auto want = [](std::int64_t q, std::int64_t k) {
    return k / 32 == q / 32 || std::abs(k % 32 - 15) <= 1;
  };
  REQUIRE(differences(*strong_alibi(spec, 256, true).head0, 256, want) == 0);
  REQUIRE(differences(*strong_alibi(spec, 256, false).head0, 256, want) > 0);
}

TEST_CASE(
    "attn_recall counts the bias: the near-diagonal oracle selection recalls almost all biased attention") {
  // Row i of a query block keeping only its diagonal block loses the mass of the keys before it,
  // sum_j e^-0.5(i+j+1) / sum_j e^-0.5j; averaged over the two such blocks and six that keep their
  // neighbour too, about 1.2 % is lost. Unbiased (nearly flat) attention loses more than half.
  const MaskSpec spec{"topk_blocks", {{"block", "32"}, {"keep", "0.4"}, {"score", "oracle"}}};
  Strong c = strong_alibi(spec, 256, true);
  c.p.head_masks = {c.head0};
  const auto with = selection_quality(c.p, c.in);
  REQUIRE(with.attn_recall > 0.98);
  const auto want = brute::quality(c.p, c.in);  // one dense float64 pass for both columns
  REQUIRE(with.attn_recall == Approx(want.attn_recall).epsilon(1e-12));
  REQUIRE(with.approx_rel_l2 == Approx(want.approx_rel_l2).epsilon(1e-12));
  c.p.bias = nullptr;  // the same selection judged against unbiased attention
  REQUIRE(selection_quality(c.p, c.in).attn_recall < 0.8);
}
