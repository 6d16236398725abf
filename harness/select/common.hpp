// Internal: what every selector reads (one (batch, head)'s Q and K rows, the base mask, the diagonal block).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "attnbench/bias.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"
#include "harness/select/row_slices.hpp"
#include "masks/selector_spec.hpp"

namespace attnbench::select {

// The diagonal block of each row, a value the selected mask's predicate keeps.
struct Diagonal {
  std::int64_t block = 64, sq = 0, sk = 0;
  // Keys of the diagonal block of row q: the key blocks that hold k = q + (Sk - Sq) for some row of
  // q's query block, clipped to [0, Sk); empty when the diagonal lies outside the keys.
  Range range(std::int64_t row) const {
    const std::int64_t bs = block, off = sk - sq;
    const std::int64_t q0 = row / bs * bs, q1 = std::min(sq, q0 + bs) - 1;
    const std::int64_t k0 = q0 + off, k1 = q1 + off;
    if (k1 < 0 || k0 >= sk) return {0, 0};
    const std::int64_t lo = std::max<std::int64_t>(0, k0) / bs * bs;
    const std::int64_t hi = std::min(sk, (std::min(sk - 1, k1) / bs + 1) * bs);
    return {lo, hi};
  }
  bool contains(std::int64_t row, std::int64_t key) const {
    const Range r = range(row);
    return key >= r.first && key < r.second;
  }
};

// One (batch element, query head) as a selector sees it: query head h reads key head h·Hk/Hq. Scores
// that stand for attention probabilities add the case's bias (null: none), as the kernels and the
// quality pass do, so a selector keeps what the biased attention attends to.
struct HeadView {
  MaskPtr base_ptr;  // the predicates of selected masks keep it alive
  const Mask& base;
  const SelectorSpec& spec;
  Diagonal diag;
  const float* q = nullptr;  // row s at q + s·q_stride
  const float* k = nullptr;
  std::int64_t q_stride = 0, k_stride = 0, sq = 0, sk = 0, d = 0;
  std::int64_t head = 0;  // the query head: the bias's head index
  const Bias* bias = nullptr;
  double scale = 1.0;

  HeadView(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h)
      : base_ptr(p.mask), base(*p.mask), spec(s) {
    const auto& sh = p.shape;
    sq = sh.seqlen_q;
    sk = sh.seqlen_k;
    d = sh.head_dim;
    q_stride = sh.heads_q * d;
    k_stride = sh.heads_kv * d;
    q = in.q.data() + (b * sq * sh.heads_q + h) * d;
    k = in.k.data() + (b * sk * sh.heads_kv + h / sh.group()) * d;
    scale = p.softmax_scale;
    head = h;
    bias = p.bias.get();
    diag = {s.block, sq, sk};
  }
  const float* qrow(std::int64_t s) const { return q + s * q_stride; }
  const float* krow(std::int64_t s) const { return k + s * k_stride; }
  double dot(const float* a, const float* b) const {
    double acc = 0;
    for (std::int64_t i = 0; i < d; ++i) acc += static_cast<double>(a[i]) * b[i];
    return acc;
  }
  Range diagonal(std::int64_t row) const { return diag.range(row); }
  bool in_diagonal(std::int64_t row, std::int64_t key) const { return diag.contains(row, key); }
  // The additive bias of (row, key), 0 without one.
  double bias_at(std::int64_t row, std::int64_t key) const {
    return bias != nullptr ? bias->value(head, row, key) : 0.0;
  }
  // Scores scale·q·k + bias of row `row` over its base keys (ranges), and their log-sum-exp.
  double row_scores(std::int64_t row, const Ranges& keys, std::vector<double>& s) const {
    s.clear();
    double m = -1e300;
    for (const auto& [lo, hi] : keys)
      for (std::int64_t key = lo; key < hi; ++key) {
        s.push_back(scale * dot(qrow(row), krow(key)) + bias_at(row, key));
        m = std::max(m, s.back());
      }
    double z = 0;
    for (double x : s) z += std::exp(x - m);
    return s.empty() ? -1e300 : m + std::log(z);
  }
};

// The middle index of [lo, hi) (the lower of the two middles for an even length): where a pooled score
// reads the bias of a block (topk_blocks' block pair, token_keep's pooled query block).
inline std::int64_t block_centre(std::int64_t lo, std::int64_t hi) { return lo + (hi - lo - 1) / 2; }

// Indices of the n largest scores (ties: the lower index first), sorted by index.
std::vector<std::int64_t> top_indices(const std::vector<double>& score, std::int64_t n);
// Sorted indices as ranges (merged when consecutive).
Ranges index_ranges(const std::vector<std::int64_t>& sorted);

// The selectors: one (batch, head) each, returning that head's selected mask.
MaskPtr select_topk_blocks(const HeadView&, const BlockMap& base_map);
MaskPtr select_token_keep(const HeadView&);
MaskPtr select_vertical_slash(const HeadView&);
MaskPtr select_kmeans(const HeadView&, std::uint64_t stream);
MaskPtr select_recycled(const HeadView&);

}  // namespace attnbench::select
