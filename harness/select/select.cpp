// Runs a selector over every (batch, query head) of a case, and the helpers the selectors share.
#include "harness/select/select.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "harness/select/common.hpp"
#include "masks/selector_spec.hpp"
#include "reports/case_label.hpp"

namespace attnbench {

namespace select {

std::vector<std::int64_t> top_indices(const std::vector<double>& score, std::int64_t n) {
  std::vector<std::int64_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  n = std::clamp<std::int64_t>(n, 0, static_cast<std::int64_t>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](std::int64_t a, std::int64_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  return idx;
}

Ranges index_ranges(const std::vector<std::int64_t>& sorted) {
  Ranges r;
  for (std::int64_t i : sorted)
    if (!r.empty() && r.back().second == i)
      ++r.back().second;
    else
      r.emplace_back(i, i + 1);
  return r;
}

}  // namespace select

bool is_dynamic(const Problem& p) { return p.mask && is_selector(p.mask->name()); }

std::vector<MaskPtr> select_masks(const Problem& p, const Inputs& in) {
  const SelectorSpec spec = selector_spec(*p.mask);
  const std::int64_t B = p.shape.batch, Hq = p.shape.heads_q;
  std::vector<MaskPtr> out(static_cast<std::size_t>(B * Hq));
  BlockMap map;
  if (spec.selector == "topk_blocks") {
    const std::int64_t nqb = (p.shape.seqlen_q + spec.block - 1) / spec.block;
    const std::int64_t nkb = (p.shape.seqlen_k + spec.block - 1) / spec.block;
    if (nqb > kMaxMaskBlockPairs / nkb)
      throw InputError(
          fmt::format("mask 'topk_blocks': {} x {} blocks of {} exceed the limit of 2^30 block pairs "
                      "(accepted: a larger block)",
                      nqb, nkb, spec.block));
    map = p.mask->block_map(spec.block, spec.block);
  }
  std::exception_ptr failed;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t i = 0; i < B * Hq; ++i) {
    try {
      const select::HeadView v(p, in, spec, i / Hq, i % Hq);
      MaskPtr m;
      if (spec.selector == "topk_blocks")
        m = select::select_topk_blocks(v, map);
      else if (spec.selector == "token_keep")
        m = select::select_token_keep(v);
      else if (spec.selector == "vertical_slash")
        m = select::select_vertical_slash(v);
      else if (spec.selector == "kmeans")
        m = select::select_kmeans(v, static_cast<std::uint64_t>(i));
      else
        m = select::select_recycled(v);
      out[static_cast<std::size_t>(i)] = std::move(m);
    } catch (...) {
#pragma omp critical
      failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
  return out;
}

std::string base_mask_label(const Problem& p) {
  const SelectorSpec spec = selector_spec(*p.mask);
  const MaskPtr base = build_mask(spec.base, p.shape.seqlen_q, p.shape.seqlen_k);
  return mask_label(base->name(), base->params_json());
}

}  // namespace attnbench
