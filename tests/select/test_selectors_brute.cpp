// Every selector against its dense float64 recomputation (brute_force.cpp) element by element, with and
// without a bias; kmeans on planted clusters; what a strong ALiBi bias must do to each selection.
#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <sstream>
#include <string>

#include "harness/inputs.hpp"
#include "harness/select/select.hpp"
#include "harness/selection_quality.hpp"
#include "masks/rng.hpp"
#include "tests/select/brute_force.hpp"

using namespace attnbench;

namespace {

using brute::CaseShape;
using brute::make_case;

// The pairs where the selection (its predicate and its slices, via dense()) and the brute force differ,
// and the subset / diagonal rules broken; the first of each as text.
std::string compare(const Mask& base, const Mask& sel, const brute::Dense& want, std::int64_t block) {
  const std::int64_t sq = base.seqlen_q(), sk = base.seqlen_k();
  const auto dense = sel.dense();
  std::int64_t wrong = 0, area = 0;
  std::ostringstream first;
  for (std::int64_t q = 0; q < sq; ++q)
    for (std::int64_t k = 0; k < sk; ++k) {
      const bool got = dense[q * sk + k] != 0, pred = sel.allowed(q, k), b = base.allowed(q, k);
      area += got;
      const bool bad = got != pred || got != (want[q * sk + k] != 0) || (got && !b) ||
                       (b && brute::in_diagonal(q, k, block, sq, sk) && !got);
      if (bad && wrong++ == 0)
        first << "(q " << q << ", k " << k << "): slices " << got << " predicate " << pred << " brute "
              << int(want[q * sk + k]) << " base " << b;
    }
  if (area != sel.area()) first << " area " << sel.area() << " != " << area;
  return wrong == 0 && area == sel.area() ? "" : std::to_string(wrong) + " wrong, first " + first.str();
}

const std::vector<MaskSpec>& selector_specs() {
  static const std::vector<MaskSpec> specs{
      {"topk_blocks", {{"block", "32"}, {"keep", "0.3"}}},
      {"topk_blocks", {{"block", "32"}, {"keep", "0.4"}, {"pool", "maxminavg"}}},
      {"topk_blocks", {{"block", "32"}, {"keep", "0.3"}, {"score", "oracle"}}},
      {"topk_blocks", {{"block", "32"}, {"threshold", "0.15"}}},
      {"topk_blocks", {{"block", "32"}, {"threshold", "0.1"}, {"score", "oracle"}}},
      {"vertical_slash", {{"block", "32"}, {"last_q", "24"}, {"vertical", "10"}, {"slash", "6"}}},
      {"kmeans", {{"block", "32"}, {"clusters", "4"}, {"iters", "3"}, {"seed", "7"}}},
      {"token_keep", {{"block", "32"}, {"keep", "0.15"}}},
      {"recycled", {{"block", "32"}, {"stride", "5"}, {"topk", "12"}}},
  };
  return specs;
}

// One OpenMP thread while a test alternates short parallel selections with long serial brute force:
// idle team threads would otherwise spin through the brute force and take a core from it (2-core CI).
// Selection does not depend on the thread count (the every-selector test runs it threaded).
struct OneThread {
  int saved = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved); }
};

std::string spec_text(const MaskSpec& s) {
  std::string t = s.name;
  for (const auto& [k, v] : s.params) t += " " + k + "=" + v;
  return t;
}

}  // namespace

TEST_CASE(
    "every selector equals its brute-force recomputation pair by pair, inside the base and keeping the "
    "diagonal block, with and without a bias") {
  const std::vector<CaseShape> configs{
      {1, 2, 1, 128, 128, "causal"},
      {1, 2, 1, 200, 200, "causal"},
      {1, 2, 1, 200, 200, "{name: causal_sliding_window, window: 70}"},
      {1, 2, 2, 128, 128, "full"},
      {2, 2, 1, 72, 200, "causal"},  // Sq != Sk (bottom-right aligned), two batch elements
      {1, 2, 1, 200, 72, "causal"},  // Sq > Sk: the first rows see no key, their diagonal lies outside
      {1, 2, 1, 72, 200, "{name: causal_sliding_window, window: 70}"},
      {1, 2, 1, 100, 100, "{name: streaming, sink: 8, recent: 20}"},
  };
  const OneThread one;
  std::int64_t checked = 0;
  for (const auto& spec : selector_specs()) {
    // The comparison means something only if the selector chose: dropped base pairs somewhere and
    // kept pairs beyond the diagonal block somewhere.
    std::int64_t dropped = 0, beyond_diagonal = 0;
    for (const auto& c : configs)
      for (const char* bias : {"none", "alibi", "relpos"})
        for (std::uint64_t seed : {1u, 2u, 3u}) {
          const Problem p = make_case(spec, c, seed, bias);
          const SelectorSpec s = selector_spec(*p.mask);
          const Inputs in = generate_inputs(p);
          const auto sel = select_masks(p, in);
          for (std::int64_t b = 0; b < c.batch; ++b)
            for (std::int64_t h = 0; h < c.heads_q; ++h) {
              INFO(spec_text(spec) << " | " << c.seqlen_q << "x" << c.seqlen_k << " base " << c.base
                                   << " bias " << bias << " seed " << seed << " b " << b << " h " << h);
              const brute::Dense want = brute::selection(p, in, s, b, h);
              REQUIRE(compare(*p.mask, *sel[b * c.heads_q + h], want, s.block) == "");
              ++checked;
              for (std::int64_t q = 0; q < c.seqlen_q; ++q)
                for (std::int64_t k = 0; k < c.seqlen_k; ++k) {
                  const bool kept = want[q * c.seqlen_k + k] != 0;
                  dropped += p.mask->allowed(q, k) && !kept;
                  beyond_diagonal += kept && !brute::in_diagonal(q, k, s.block, c.seqlen_q, c.seqlen_k);
                }
            }
        }
    INFO(spec_text(spec));
    REQUIRE(dropped > 0);
    REQUIRE(beyond_diagonal > 0);
  }
  REQUIRE(checked == 9 * 3 * 3 * (7 * 2 + 4));  // specs, biases, seeds, (b, h) of the shapes
}

TEST_CASE("selection quality (attn_recall, approx_rel_l2) equals a dense float64 computation, with a bias") {
  for (const char* bias : {"none", "alibi", "relpos"})
    for (const auto& spec : {selector_specs()[0], selector_specs()[5], selector_specs()[8]}) {
      INFO(spec_text(spec) << " bias " << bias);
      Problem p = make_case(spec, {2, 4, 2, 96, 128, "causal"}, 3, bias);
      p.shape.heads_v = 1;  // value heads apart from key heads: the quality pass reads value head h·Hv/Hq
      p.shape.head_dim_v = 8;
      const Inputs in = generate_inputs(p);
      p.head_masks = select_masks(p, in);
      const auto got = selection_quality(p, in), want = brute::quality(p, in);
      REQUIRE(got.attn_recall == Approx(want.attn_recall).epsilon(1e-12));
      REQUIRE(got.approx_rel_l2 == Approx(want.approx_rel_l2).epsilon(1e-12));
      REQUIRE(got.attn_recall < 1.0);
    }
}

TEST_CASE("kmeans on planted clusters: queries and keys attend exactly within their planted cluster") {
  // Four clusters along orthogonal axes with small noise, so spherical k-means cannot split or merge them
  // once each cluster holds one initial centroid; the seed is chosen so that it does (drawn as the
  // selector draws: masks::Rng(seed, b·Hq + h), distinct points of the Sq + Sk rows).
  const std::int64_t sq = 120, sk = 120, d = 16, clusters = 4;
  const auto label = [](std::int64_t i) {
    return static_cast<int>((i * 7 + i / 5) % 4);
  };  // row i of Q then K
  std::uint64_t seed = 0;
  for (;; ++seed) {
    masks::Rng rng(seed, 0);
    std::vector<std::int64_t> pick;
    std::vector<bool> hit(clusters, false);
    while (static_cast<std::int64_t>(pick.size()) < clusters) {
      const auto i = static_cast<std::int64_t>(rng.below(sq + sk));
      if (std::count(pick.begin(), pick.end(), i) == 0) pick.push_back(i), hit[label(i)] = true;
    }
    if (std::count(hit.begin(), hit.end(), true) == clusters) break;
  }
  for (const char* base : {"causal", "full"}) {
    INFO("base " << base << " seed " << seed);
    const MaskSpec spec{"kmeans",
                        {{"block", "8"}, {"clusters", "4"}, {"iters", "5"}, {"seed", std::to_string(seed)}}};
    Problem p = make_case(spec, {1, 1, 1, sq, sk, base}, 1, "none");
    Inputs in = generate_inputs(p);
    for (std::int64_t i = 0; i < sq + sk; ++i) {
      float* row = i < sq ? &in.q[i * d] : &in.k[(i - sq) * d];
      for (std::int64_t t = 0; t < d; ++t) row[t] = 0.05f * row[t] + (t == 2 * label(i) ? 1.0f : 0.0f);
    }
    const auto sel = select_masks(p, in);
    std::int64_t wrong = 0;
    for (std::int64_t q = 0; q < sq; ++q)
      for (std::int64_t k = 0; k < sk; ++k) {
        const bool keep =
            p.mask->allowed(q, k) && (label(q) == label(sq + k) || brute::in_diagonal(q, k, 8, sq, sk));
        wrong += sel[0]->allowed(q, k) != keep;
      }
    REQUIRE(wrong == 0);
    // The brute-force k-means finds the planted partition too (its mask is checked above on random inputs).
    const auto cl = brute::kmeans_clusters(p, in, selector_spec(*p.mask), 0, 0);
    std::int64_t split = 0;
    for (std::int64_t i = 1; i < sq + sk; ++i)
      for (std::int64_t j = 0; j < i; ++j) split += (cl[i] == cl[j]) != (label(i) == label(j));
    REQUIRE(split == 0);
  }
}
