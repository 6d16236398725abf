// Dynamic selectors: each selection against a brute-force recomputation, subset of base, diagonal,
// determinism, quality.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "harness/inputs.hpp"
#include "harness/select/row_slices.hpp"
#include "harness/select/select.hpp"
#include "harness/selection_quality.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

Problem make_problem(const MaskSpec& spec, std::int64_t sq, std::int64_t sk, std::int64_t hq = 2,
                     std::int64_t hk = 1, std::int64_t d = 16) {
  Problem p;
  p.shape = {1, hq, hk, sq, sk, d};
  p.mask = build_mask(spec, sq, sk);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(d));
  p.seed = 5;
  return p;
}

// Every pair of the selection: the slices (row_ranges) agree with the predicate, lie inside the base,
// and cover the diagonal block of `block` (bottom-right aligned) wherever the base allows it.
void check_mask(const Mask& base, const Mask& sel, std::int64_t block) {
  const std::int64_t sq = base.seqlen_q(), sk = base.seqlen_k(), off = sk - sq;
  const auto dense = sel.dense();
  std::int64_t area = 0;
  for (std::int64_t q = 0; q < sq; ++q) {
    const std::int64_t q0 = q / block * block, q1 = std::min(sq, q0 + block) - 1;
    for (std::int64_t k = 0; k < sk; ++k) {
      const bool in = dense[q * sk + k] != 0;
      area += in;
      REQUIRE(in == sel.allowed(q, k));
      if (in) REQUIRE(base.allowed(q, k));
      const bool diag = q1 + off >= 0 && k / block >= std::max<std::int64_t>(0, q0 + off) / block &&
                        k / block <= std::min(sk - 1, q1 + off) / block;
      if (diag && base.allowed(q, k)) REQUIRE(in);
    }
  }
  REQUIRE(area == sel.area());
}

std::vector<double> row_scores(const Problem& p, const Inputs& in, std::int64_t h, std::int64_t q) {
  const auto& s = p.shape;
  std::vector<double> sc(static_cast<std::size_t>(s.seqlen_k), -HUGE_VAL);
  for (std::int64_t k = 0; k < s.seqlen_k; ++k) {
    if (!p.mask->allowed(q, k)) continue;
    double dot = 0;
    for (std::int64_t t = 0; t < s.head_dim; ++t)
      dot += static_cast<double>(in.q[(q * s.heads_q + h) * s.head_dim + t]) *
             in.k[(k * s.heads_kv + h / s.group()) * s.head_dim + t];
    sc[k] = dot * p.softmax_scale;
  }
  return sc;
}

}  // namespace

TEST_CASE("rows_to_slices covers exactly the given rows for full, causal, inverse-causal and band runs") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 30; ++trial) {
    const std::int64_t sq = 40, sk = 50;
    std::vector<select::Ranges> rows(sq);
    for (std::int64_t q = 0; q < sq; ++q) {
      select::Ranges r;
      if (trial % 3 == 0) r.emplace_back(0, std::min<std::int64_t>(sk, q + 1));                  // causal
      if (trial % 3 == 1) r.emplace_back(std::min<std::int64_t>(q, 45), 46);                     // inverse
      r.emplace_back(std::min<std::int64_t>(sk - 1, q + 3), std::min<std::int64_t>(sk, q + 6));  // band
      for (int i = 0; i < 3; ++i) {
        const std::int64_t a = rng() % sk;
        r.emplace_back(a, std::min<std::int64_t>(sk, a + 1 + rng() % 4));
      }
      select::normalise(r);
      rows[q] = r;
    }
    const Mask m("t", sq, sk, {},
                 select::rows_to_slices(sq, [&](std::int64_t q, select::Ranges& o) { o = rows[q]; }),
                 [](std::int64_t, std::int64_t) { return false; });
    std::vector<std::pair<std::int64_t, std::int64_t>> got;
    for (std::int64_t q = 0; q < sq; ++q) {
      m.row_ranges(q, got);
      REQUIRE(got == rows[q]);
    }
  }
}

TEST_CASE(
    "every selector: a subset of the base, the diagonal block kept, slices equal the predicate, "
    "deterministic") {
  const std::vector<MaskSpec> specs{
      {"topk_blocks", {{"block", "16"}, {"keep", "0.3"}}},
      {"topk_blocks", {{"block", "16"}, {"threshold", "0.05"}, {"pool", "maxminavg"}}},
      {"topk_blocks", {{"block", "16"}, {"keep", "0.3"}, {"score", "oracle"}}},
      {"vertical_slash", {{"block", "16"}, {"last_q", "8"}, {"vertical", "5"}, {"slash", "4"}}},
      {"kmeans", {{"block", "16"}, {"clusters", "4"}, {"iters", "3"}, {"seed", "9"}}},
      {"token_keep", {{"block", "16"}, {"keep", "0.2"}}},
      {"recycled", {{"block", "16"}, {"stride", "5"}, {"topk", "7"}}},
      {"topk_blocks",
       {{"block", "16"}, {"keep", "0.3"}, {"base", "{name: causal_sliding_window, window: 40}"}}},
  };
  for (const auto& spec : specs)
    for (auto [sq, sk] : {std::pair<std::int64_t, std::int64_t>{96, 96}, {40, 100}}) {
      INFO(spec.name << " " << sq << "x" << sk);
      const Problem p = make_problem(spec, sq, sk);
      const Inputs in = generate_inputs(p);
      const auto a = select_masks(p, in), b = select_masks(p, in);
      REQUIRE(a.size() == 2);
      for (std::size_t i = 0; i < a.size(); ++i) {
        check_mask(*p.mask, *a[i], 16);
        REQUIRE(a[i]->dense() == b[i]->dense());
        REQUIRE(a[i]->name() == spec.name);
      }
    }
}

TEST_CASE(
    "topk_blocks keeps the diagonal block and the top pooled-average blocks, recomputed by brute force") {
  const MaskSpec spec{"topk_blocks", {{"block", "8"}, {"keep", "0.4"}}};
  const Problem p = make_problem(spec, 64, 64, 1, 1, 8);
  const Inputs in = generate_inputs(p);
  const auto sel = select_masks(p, in);
  const std::int64_t bs = 8, nb = 8, d = 8;
  for (std::int64_t i = 0; i < nb; ++i) {
    std::vector<std::pair<double, std::int64_t>> cand;  // (-score, block): visible blocks under causal
    for (std::int64_t j = 0; j < i; ++j) {
      double s = 0;
      for (std::int64_t t = 0; t < d; ++t) {
        double qa = 0, ka = 0;
        for (std::int64_t r = 0; r < bs; ++r)
          qa += in.q[(i * bs + r) * d + t], ka += in.k[(j * bs + r) * d + t];
        s += qa / bs * ka / bs;
      }
      cand.emplace_back(-s, j);
    }
    std::sort(cand.begin(), cand.end());
    const std::int64_t want = std::max<std::int64_t>(1, std::llround(0.4 * static_cast<double>(i + 1)));
    std::vector<bool> keep(nb, false);
    keep[i] = true;
    for (std::int64_t n = 0; n + 1 < want; ++n) keep[cand[n].second] = true;
    for (std::int64_t j = 0; j <= i; ++j) REQUIRE(sel[0]->allowed(i * bs + bs - 1, j * bs) == keep[j]);
  }
}

TEST_CASE("vertical_slash keeps the top columns and diagonals of the last queries' attention") {
  const MaskSpec spec{"vertical_slash", {{"block", "4"}, {"last_q", "6"}, {"vertical", "3"}, {"slash", "2"}}};
  const Problem p = make_problem(spec, 48, 48, 1, 1, 8);
  const Inputs in = generate_inputs(p);
  const auto sel = select_masks(p, in);
  std::vector<double> col(48, 0.0), dg(48 + 47, 0.0);
  for (std::int64_t q = 42; q < 48; ++q) {
    auto sc = row_scores(p, in, 0, q);
    double m = *std::max_element(sc.begin(), sc.end()), z = 0;
    for (double x : sc) z += std::exp(x - m);
    for (std::int64_t k = 0; k <= q; ++k)
      col[k] += std::exp(sc[k] - m) / z, dg[q - k + 47] += std::exp(sc[k] - m) / z;
  }
  auto top = [](const std::vector<double>& v, int n) {
    std::vector<std::int64_t> idx(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) idx[i] = static_cast<std::int64_t>(i);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return v[a] > v[b]; });
    idx.resize(n);
    return idx;
  };
  const auto cols = top(col, 3), diags = top(dg, 2);
  for (std::int64_t q = 0; q < 48; ++q)
    for (std::int64_t k = 0; k <= q; ++k) {
      const bool want = std::count(cols.begin(), cols.end(), k) > 0 ||
                        std::count(diags.begin(), diags.end(), q - k + 47) > 0 || k / 4 == q / 4;
      REQUIRE(sel[0]->allowed(q, k) == want);
    }
}

TEST_CASE("recycled: the first row of each stride sees the base, the rest its top-K keys and newer ones") {
  const MaskSpec spec{"recycled", {{"block", "1"}, {"stride", "4"}, {"topk", "5"}}};
  const Problem p = make_problem(spec, 8, 64, 1, 1, 8);
  const Inputs in = generate_inputs(p);
  const auto sel = select_masks(p, in);
  const std::int64_t off = 56;
  for (std::int64_t q = 0; q < 8; ++q) {
    const std::int64_t r0 = q / 4 * 4;
    auto sc = row_scores(p, in, 0, r0);
    std::vector<std::int64_t> idx(64);
    for (int i = 0; i < 64; ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return sc[a] > sc[b]; });
    for (std::int64_t k = 0; k < 64; ++k) {
      const bool base = k <= q + off;
      const bool want = base && (q == r0 || k > r0 + off || std::count(idx.begin(), idx.begin() + 5, k) > 0 ||
                                 k == q + off);
      REQUIRE(sel[0]->allowed(q, k) == want);
    }
  }
}

TEST_CASE("kmeans: queries and keys attend within their cluster (or the diagonal block)") {
  const MaskSpec spec{"kmeans", {{"block", "1"}, {"clusters", "1"}, {"iters", "2"}}};
  const Problem p = make_problem(spec, 32, 32, 1, 1, 8);
  const auto sel = select_masks(p, generate_inputs(p));
  REQUIRE(sel[0]->area() == p.mask->area());  // one cluster: everything the base allows
  const MaskSpec many{"kmeans", {{"block", "1"}, {"clusters", "32"}, {"iters", "0"}}};
  const Problem p2 = make_problem(many, 32, 32, 1, 1, 8);
  REQUIRE(select_masks(p2, generate_inputs(p2))[0]->area() < p2.mask->area());
}

TEST_CASE("oracle block scores recall at least as much attention as pooled ones") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    Problem pooled = make_problem({"topk_blocks", {{"block", "16"}, {"keep", "0.25"}}}, 256, 256, 2, 2, 16);
    Problem oracle = make_problem({"topk_blocks", {{"block", "16"}, {"keep", "0.25"}, {"score", "oracle"}}},
                                  256, 256, 2, 2, 16);
    pooled.seed = oracle.seed = seed;
    const Inputs in = generate_inputs(pooled);
    pooled.head_masks = select_masks(pooled, in);
    oracle.head_masks = select_masks(oracle, in);
    REQUIRE(pooled.area() == oracle.area());
    REQUIRE(selection_quality(oracle, in).attn_recall >= selection_quality(pooled, in).attn_recall);
  }
}

TEST_CASE("keep = 1 selects the whole base: attn_recall 1 and approx_rel_l2 0") {
  for (const char* name : {"topk_blocks", "token_keep"}) {
    Problem p = make_problem({name, {{"block", "16"}, {"keep", "1"}}}, 80, 80);
    const Inputs in = generate_inputs(p);
    p.head_masks = select_masks(p, in);
    REQUIRE(p.area() == p.mask->area() * 2);
    const auto q = selection_quality(p, in);
    REQUIRE(std::abs(q.attn_recall - 1.0) < 1e-12);
    REQUIRE(q.approx_rel_l2 < 1e-12);
  }
  Problem p = make_problem({"topk_blocks", {{"block", "16"}, {"keep", "0.1"}}}, 160, 160);
  const Inputs in = generate_inputs(p);
  p.head_masks = select_masks(p, in);
  const auto q = selection_quality(p, in);
  REQUIRE(q.attn_recall < 1.0);
  REQUIRE(q.approx_rel_l2 > 0.0);
}

TEST_CASE("selector parameters out of range are refused with the parameter and the accepted values") {
  const auto refused = [](MaskSpec s) { REQUIRE_THROWS_AS(build_mask(s, 64, 64), InputError); };
  refused({"topk_blocks", {{"keep", "0"}}});
  refused({"topk_blocks", {{"keep", "0.1"}, {"threshold", "0.2"}}});
  refused({"topk_blocks", {{"pool", "max"}}});
  refused({"topk_blocks", {{"score", "exact"}}});
  refused({"topk_blocks", {{"base", "topk_blocks"}}});
  refused({"topk_blocks", {{"base", "nosuch"}}});
  refused({"vertical_slash", {{"last_q", "0"}}});
  refused({"kmeans", {{"clusters", "0"}}});
  refused({"token_keep", {{"keep", "1.5"}}});
  refused({"recycled", {{"stride", "0"}}});
  refused({"recycled", {{"window", "3"}}});
}
