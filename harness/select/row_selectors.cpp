// Selectors that pick keys per row pattern: vertical_slash (MInference), kmeans (Routing Transformer),
// recycled.
#include <cmath>
#include <memory>

#include "harness/select/common.hpp"
#include "masks/rng.hpp"

namespace attnbench::select {

namespace {

// Row q's selected keys: `extra` (sorted ranges) and the diagonal block, inside the base.
void rows_within_base(const HeadView& v, std::int64_t q, Ranges& extra, Ranges& base_keys, Ranges& out) {
  extra.push_back(v.diagonal(q));
  normalise(extra);
  v.base.row_ranges(q, base_keys);
  intersect(base_keys, extra, out);
}

}  // namespace

MaskPtr select_vertical_slash(const HeadView& v) {
  const SelectorSpec& s = v.spec;
  const std::int64_t off = v.sk - v.sq,
                     ndiag = v.sq + v.sk - 1;  // diagonal d = q + off - k, index d + Sq - 1
  std::vector<double> column(static_cast<std::size_t>(v.sk), 0.0),
      slash(static_cast<std::size_t>(ndiag), 0.0);
  Ranges keys;
  std::vector<double> sc;
  for (std::int64_t q = std::max<std::int64_t>(0, v.sq - s.last_q); q < v.sq; ++q) {
    v.base.row_ranges(q, keys);
    const double lse = v.row_scores(q, keys, sc);
    std::size_t at = 0;
    for (const auto& [lo, hi] : keys)
      for (std::int64_t k = lo; k < hi; ++k) {
        const double p = std::exp(sc[at++] - lse);
        column[k] += p;
        slash[q + off - k + v.sq - 1] += p;
      }
  }
  const auto cols = top_indices(column, s.vertical);
  const auto diags = top_indices(slash, s.slash);
  auto col_set = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(v.sk), 0);
  auto diag_set = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(ndiag), 0);
  for (auto k : cols) (*col_set)[k] = 1;
  for (auto d : diags) (*diag_set)[d] = 1;
  const Ranges col_ranges = index_ranges(cols);
  Ranges extra, b;
  return make_selected(
      s.selector, v.base.params(), v.sq, v.sk,
      [&](std::int64_t q, Ranges& out) {
        extra = col_ranges;
        for (auto d : diags) {  // k = q + off - (d - Sq + 1)
          const std::int64_t k = q + off - (d - v.sq + 1);
          if (k >= 0 && k < v.sk) extra.emplace_back(k, k + 1);
        }
        rows_within_base(v, q, extra, b, out);
      },
      [col_set, diag_set, bp = v.base_ptr, dg = v.diag, off, sq = v.sq](std::int64_t q, std::int64_t k) {
        return bp->allowed(q, k) && ((*col_set)[k] || (*diag_set)[q + off - k + sq - 1] || dg.contains(q, k));
      });
}

MaskPtr select_kmeans(const HeadView& v, std::uint64_t stream) {
  const SelectorSpec& s = v.spec;
  const std::int64_t n = v.sq + v.sk, d = v.d;
  // Unit-normalised Q rows then K rows: routing by cosine similarity (spherical k-means), shared
  // centroids for queries and keys as in the Routing Transformer.
  std::vector<double> x(static_cast<std::size_t>(n * d));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* r = i < v.sq ? v.qrow(i) : v.krow(i - v.sq);
    double norm = 0;
    for (std::int64_t j = 0; j < d; ++j) norm += static_cast<double>(r[j]) * r[j];
    norm = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
    for (std::int64_t j = 0; j < d; ++j) x[i * d + j] = r[j] * norm;
  }
  const std::int64_t c = std::min(s.clusters, n);
  std::vector<double> cent(static_cast<std::size_t>(c * d));
  masks::Rng rng(s.seed, stream);
  std::vector<std::int64_t> pick;  // c distinct points, seeded
  while (static_cast<std::int64_t>(pick.size()) < c) {
    const auto i = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
    if (std::find(pick.begin(), pick.end(), i) == pick.end()) pick.push_back(i);
  }
  for (std::int64_t j = 0; j < c; ++j) std::copy_n(&x[pick[j] * d], d, &cent[j * d]);
  std::vector<std::int32_t> assign(static_cast<std::size_t>(n), 0);
  const auto assign_all = [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      double best = -1e300;
      for (std::int64_t j = 0; j < c; ++j) {
        double dot = 0;
        for (std::int64_t t = 0; t < d; ++t) dot += x[i * d + t] * cent[j * d + t];
        if (dot > best) best = dot, assign[i] = static_cast<std::int32_t>(j);
      }
    }
  };
  assign_all();
  for (std::int64_t it = 0; it < s.iters; ++it) {
    std::vector<double> sum(static_cast<std::size_t>(c * d), 0.0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t t = 0; t < d; ++t) sum[assign[i] * d + t] += x[i * d + t];
    for (std::int64_t j = 0; j < c; ++j) {
      double norm = 0;
      for (std::int64_t t = 0; t < d; ++t) norm += sum[j * d + t] * sum[j * d + t];
      if (norm <= 0) continue;  // an empty cluster keeps its centroid
      for (std::int64_t t = 0; t < d; ++t) cent[j * d + t] = sum[j * d + t] / std::sqrt(norm);
    }
    assign_all();
  }
  auto cq = std::make_shared<std::vector<std::int32_t>>(assign.begin(), assign.begin() + v.sq);
  auto ck = std::make_shared<std::vector<std::int32_t>>(assign.begin() + v.sq, assign.end());
  std::vector<Ranges> members(static_cast<std::size_t>(c));
  for (std::int64_t k = 0; k < v.sk; ++k) {
    auto& m = members[(*ck)[k]];
    if (!m.empty() && m.back().second == k)
      ++m.back().second;
    else
      m.emplace_back(k, k + 1);
  }
  Ranges extra, b;
  return make_selected(
      s.selector, v.base.params(), v.sq, v.sk,
      [&](std::int64_t q, Ranges& out) {
        extra = members[(*cq)[q]];
        rows_within_base(v, q, extra, b, out);
      },
      [cq, ck, bp = v.base_ptr, dg = v.diag](std::int64_t q, std::int64_t k) {
        return bp->allowed(q, k) && ((*cq)[q] == (*ck)[k] || dg.contains(q, k));
      });
}

MaskPtr select_recycled(const HeadView& v) {
  const SelectorSpec& s = v.spec;
  const std::int64_t off = v.sk - v.sq, groups = (v.sq + s.stride - 1) / s.stride;
  // Per group: the top-K keys of its first row's attention under the base.
  auto top = std::make_shared<std::vector<std::vector<std::int64_t>>>(static_cast<std::size_t>(groups));
  Ranges keys;
  std::vector<double> sc, score;
  for (std::int64_t g = 0; g < groups; ++g) {
    const std::int64_t r0 = g * s.stride;
    v.base.row_ranges(r0, keys);
    v.row_scores(r0, keys, sc);
    std::vector<std::int64_t> ids;
    for (const auto& [lo, hi] : keys)
      for (std::int64_t k = lo; k < hi; ++k) ids.push_back(k);
    for (auto i : top_indices(sc, s.topk)) (*top)[g].push_back(ids[i]);  // ids sorted: stays sorted
  }
  Ranges extra, b;
  const std::int64_t stride = s.stride;
  return make_selected(
      s.selector, v.base.params(), v.sq, v.sk,
      [&](std::int64_t q, Ranges& out) {
        const std::int64_t r0 = q / stride * stride;
        if (q == r0) {
          v.base.row_ranges(q, out);
          return;
        }
        extra = index_ranges((*top)[q / stride]);
        extra.emplace_back(std::max<std::int64_t>(0, r0 + off + 1), std::max<std::int64_t>(0, v.sk));
        rows_within_base(v, q, extra, b, out);
      },
      [top, stride, off, bp = v.base_ptr, dg = v.diag](std::int64_t q, std::int64_t k) {
        const std::int64_t r0 = q / stride * stride;
        const auto& t = (*top)[q / stride];
        return bp->allowed(q, k) &&
               (q == r0 || k > r0 + off || std::binary_search(t.begin(), t.end(), k) || dg.contains(q, k));
      });
}

}  // namespace attnbench::select
