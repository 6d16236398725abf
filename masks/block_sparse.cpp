// The dynamic block-sparse masks: fixed or random block boundaries, a seeded random choice of
// key blocks per query block (diagonal always kept), and a fast exact area for large sequences.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"
#include "masks/rng.hpp"

namespace attnbench::masks {

namespace {

constexpr std::int64_t kMaxBlock = std::int64_t{1} << 30;

struct BlockLayout {
  std::vector<std::int64_t> q_starts, k_starts;  // boundaries, size blocks + 1
  std::vector<std::int64_t> diagonal;            // the key block kept for each query block
  std::vector<std::int32_t> widths;              // key block widths
  std::int64_t kept = 1;                         // key blocks kept per query block
  std::uint64_t seed = 0;
  ResolvedParams params;

  std::int64_t nqb() const { return static_cast<std::int64_t>(q_starts.size()) - 1; }
  std::int64_t nkb() const { return static_cast<std::int64_t>(k_starts.size()) - 1; }
  std::int64_t k_width(std::int64_t j) const { return k_starts[j + 1] - k_starts[j]; }
  void finish() {
    widths.clear();
    for (std::int64_t j = 0; j < nkb(); ++j) widths.push_back(static_cast<std::int32_t>(k_width(j)));
  }
};

std::int64_t kept_count(double keep, std::int64_t nkb) {
  return std::clamp<std::int64_t>(std::llround(keep * static_cast<double>(nkb)), 1, nkb);
}

// The block table (query blocks x key blocks bytes) and the block choice scale with this product.
void check_block_pairs(const MaskSpec& spec, std::int64_t nqb, std::int64_t nkb, const char* block_param) {
  if (nqb * nkb > kMaxMaskBlockPairs)
    throw InputError(fmt::format("mask '{}': {} x {} blocks is past the limit of {} = 2^30 block pairs "
                                 "(accepted: a larger '{}' or a shorter sequence)",
                                 spec.name, nqb, nkb, kMaxMaskBlockPairs, block_param));
}

std::vector<std::int64_t> uniform_starts(std::int64_t s, std::int64_t b) {
  std::vector<std::int64_t> starts;
  for (std::int64_t x = 0; x < s; x += b) starts.push_back(x);
  starts.push_back(s);
  return starts;
}

BlockLayout block_sparse_layout(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  BlockLayout l;
  const std::int64_t b = int_param(spec, "block", 128, 1, kMaxBlock);
  const double keep = real_param(spec, "keep", 0.5, 0.0, 1.0);
  l.seed = seed_param(spec);
  check_block_pairs(spec, (sq + b - 1) / b, (sk + b - 1) / b, "block");
  l.q_starts = uniform_starts(sq, b);
  l.k_starts = uniform_starts(sk, b);
  l.kept = kept_count(keep, l.nkb());
  // Bottom-right aligned like causal: query block i sits over key position start + (Sk - Sq).
  for (std::int64_t i = 0; i < l.nqb(); ++i) {
    const std::int64_t aligned = l.q_starts[i] + (sk - sq);
    l.diagonal.push_back(std::clamp<std::int64_t>(aligned < 0 ? 0 : aligned / b, 0, l.nkb() - 1));
  }
  l.finish();
  l.params = {{"block", std::to_string(b)}, {"keep", json_number(keep)}, {"seed", std::to_string(l.seed)}};
  return l;
}

BlockLayout var_block_sparse_layout(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  BlockLayout l;
  const std::int64_t min_block = int_param(spec, "min_block", 64, 1, kMaxBlock);
  const std::int64_t avg_block = int_param(spec, "avg_block", 128, 1, kMaxBlock);
  if (avg_block < min_block)
    throw InputError(fmt::format("mask '{}': parameter 'avg_block' = {} must be >= min_block ({})",
                                 spec.name, avg_block, min_block));
  const double keep = real_param(spec, "keep", 0.5, 0.0, 1.0);
  l.seed = seed_param(spec);
  // Sizes uniform in [min, 2 avg - min] (mean avg); a last block shorter than min joins its neighbour.
  Rng rng(l.seed);
  l.q_starts = {0};
  // Both axes share the blocks: past 2^15 of them the pairs pass the limit, so stop sampling there.
  constexpr std::int64_t kMaxBlocks = std::int64_t{1} << 15;
  static_assert(kMaxBlocks * kMaxBlocks == kMaxMaskBlockPairs);
  while (l.q_starts.back() < s) {
    const std::int64_t size = rng.between(min_block, 2 * avg_block - min_block);
    l.q_starts.push_back(std::min(s, l.q_starts.back() + size));
    if (static_cast<std::int64_t>(l.q_starts.size()) > kMaxBlocks + 2)
      throw InputError(fmt::format("mask '{}': more than {} blocks per axis is past the limit of {} = 2^30 block "
                                   "pairs (accepted: a larger 'avg_block' and 'min_block' or a shorter sequence)",
                                   spec.name, kMaxBlocks, kMaxMaskBlockPairs));
  }
  const std::size_t n = l.q_starts.size();
  if (n > 2 && l.q_starts[n - 1] - l.q_starts[n - 2] < min_block) l.q_starts.erase(l.q_starts.end() - 2);
  l.k_starts = l.q_starts;
  l.kept = kept_count(keep, l.nkb());
  for (std::int64_t i = 0; i < l.nqb(); ++i) l.diagonal.push_back(i);
  l.finish();
  l.params = {{"avg_block", std::to_string(avg_block)},
              {"min_block", std::to_string(min_block)},
              {"keep", json_number(keep)},
              {"seed", std::to_string(l.seed)}};
  return l;
}

// Chooses the key blocks of query block `row` into kept[0, nkb): the diagonal plus `kept - 1`
// of the other blocks, uniformly at random, and returns their total width. Each other block
// is first taken independently with probability ~ (kept - 1) / (nkb - 1) (8 random bits per
// block: cheap, branch-free), then random blocks are dropped or added until the count is
// exact. Every step treats the other blocks alike, so each subset of the right size is
// equally likely, at a fraction of the cost of drawing the blocks one by one.
std::int64_t choose_row(const BlockLayout& l, std::int64_t row, std::uint8_t* kept) {
  const std::int64_t n = l.nkb(), others = n - 1, choose = l.kept - 1, diag = l.diagonal[row];
  Rng rng(l.seed, static_cast<std::uint64_t>(row) + 1);
  const unsigned threshold =
      others > 0 ? static_cast<unsigned>(std::llround(256.0 * static_cast<double>(choose) / static_cast<double>(others))) : 0;
  // Random bytes first, then branch-free passes the compiler can vectorise.
  std::int64_t base = 0;
  for (; base + 8 <= n; base += 8) {
    const std::uint64_t word = rng.next();
    for (int b = 0; b < 8; ++b) kept[base + b] = static_cast<std::uint8_t>(word >> (8 * b));
  }
  if (base < n) {
    const std::uint64_t word = rng.next();
    for (std::int64_t j = base; j < n; ++j) kept[j] = static_cast<std::uint8_t>(word >> (8 * (j - base)));
  }
  std::int64_t count = 0, width = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    kept[j] = static_cast<unsigned>(kept[j]) < threshold ? 1 : 0;
    count += kept[j];
  }
  const std::int32_t* widths = l.widths.data();
  for (std::int64_t j = 0; j < n; ++j) width += kept[j] * widths[j];
  if (kept[diag]) {
    kept[diag] = 0;
    --count;
    width -= l.k_width(diag);
  }
  while (count > choose) {
    const auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
    if (j != diag && kept[j]) {
      kept[j] = 0;
      --count;
      width -= l.k_width(j);
    }
  }
  while (count < choose) {
    const auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
    if (j != diag && !kept[j]) {
      kept[j] = 1;
      ++count;
      width += l.k_width(j);
    }
  }
  kept[diag] = 1;
  return width + l.k_width(diag);
}

std::int64_t layout_area(const BlockLayout& l) {
  const std::int64_t nkb = l.nkb();
  bool uniform = true;
  for (std::int64_t j = 0; j < nkb && uniform; ++j) uniform = l.k_width(j) == l.k_width(0);
  // Every key block is as wide: no need to know which ones were chosen.
  if (uniform) return l.q_starts.back() * l.kept * l.k_width(0);
  std::vector<std::uint8_t> kept(static_cast<std::size_t>(nkb));
  std::int64_t area = 0;
  for (std::int64_t i = 0; i < l.nqb(); ++i) area += (l.q_starts[i + 1] - l.q_starts[i]) * choose_row(l, i, kept.data());
  return area;
}

MaskPtr layout_mask(const MaskSpec& spec, std::int64_t sq, std::int64_t sk, BlockLayout l) {
  const std::int64_t nqb = l.nqb(), nkb = l.nkb();
  auto table = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(nqb * nkb));
  std::vector<Slice> slices;
  for (std::int64_t i = 0; i < nqb; ++i) {
    std::uint8_t* row = table->data() + i * nkb;
    choose_row(l, i, row);
    // Consecutive kept key blocks become one full slice.
    for (std::int64_t j = 0; j < nkb;) {
      if (!row[j]) { ++j; continue; }
      std::int64_t e = j;
      while (e < nkb && row[e]) ++e;
      slices.push_back({l.q_starts[i], l.q_starts[i + 1], l.k_starts[j], l.k_starts[e], SliceType::full});
      j = e;
    }
  }
  auto q_starts = std::make_shared<const std::vector<std::int64_t>>(l.q_starts);
  auto k_starts = std::make_shared<const std::vector<std::int64_t>>(l.k_starts);
  auto block_of = [](const std::vector<std::int64_t>& starts, std::int64_t x) {
    return (std::upper_bound(starts.begin(), starts.end(), x) - starts.begin()) - 1;
  };
  return std::make_shared<Mask>(spec.name, sq, sk, l.params, std::move(slices),
                                [=](std::int64_t q, std::int64_t k) {
                                  return (*table)[block_of(*q_starts, q) * nkb + block_of(*k_starts, k)] != 0;
                                });
}

MaskPtr make_block_sparse(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  return layout_mask(spec, sq, sk, block_sparse_layout(spec, sq, sk));
}
std::int64_t area_block_sparse(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  return layout_area(block_sparse_layout(spec, sq, sk));
}
MaskPtr make_var_block_sparse(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  return layout_mask(spec, sq, sk, var_block_sparse_layout(spec, sq, sk));
}
std::int64_t area_var_block_sparse(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  return layout_area(var_block_sparse_layout(spec, sq, sk));
}

}  // namespace

std::vector<MaskEntry> block_sparse_masks() {
  const MaskParamInfo keep{"keep", "0.5", "fraction r in (0, 1] of key blocks kept per query block"};
  const MaskParamInfo seed{"seed", "0", "seed of the block choice"};
  return {
      {{"block_sparse", "block-sparse",
        "per query block, max(1, round(r * nkb)) key blocks chosen uniformly at random, diagonal always kept",
        {{"block", "128", "block size b >= 1 (queries and keys)"}, keep, seed}, true},
       make_block_sparse, area_block_sparse},
      {{"var_block_sparse", "block-sparse",
        "random block boundaries (sizes uniform in [min_block, 2 avg_block - min_block]), then as block_sparse",
        {{"avg_block", "128", "mean block size, >= min_block"},
         {"min_block", "64", "smallest block size, >= 1"},
         keep,
         seed},
        false},
       make_var_block_sparse, area_var_block_sparse},
  };
}

}  // namespace attnbench::masks
