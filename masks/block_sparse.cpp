// The dynamic block-sparse masks: fixed or random block boundaries, a seeded random choice of
// key blocks per query block (diagonal kept by default; LongCA-bench's rules as options), and a
// fast exact area for large sequences.
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
  bool force_diagonal = true;                    // the diagonal block is one of the kept blocks
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

// `rounding: floor` is LongCA-bench's max(1, int(r * nkb)); `round` is the nearest integer.
std::int64_t kept_count(double keep, std::int64_t nkb, bool floor) {
  const double target = keep * static_cast<double>(nkb);
  const auto n = floor ? static_cast<std::int64_t>(std::floor(target)) : std::llround(target);
  return std::clamp<std::int64_t>(n, 1, nkb);
}

bool diagonal_param(const MaskSpec& spec) {
  return choice_param(spec, "diagonal", "true", {"true", "false"}) == "true";
}
bool floor_param(const MaskSpec& spec) {
  return choice_param(spec, "rounding", "round", {"round", "floor"}) == "floor";
}

// The key block that query block i sits over: bottom-right aligned like causal, so query
// position q meets key position q + (Sk - Sq).
std::int64_t aligned_block(const std::vector<std::int64_t>& k_starts, std::int64_t q, std::int64_t sq,
                           std::int64_t sk) {
  const std::int64_t at = std::clamp<std::int64_t>(q + (sk - sq), 0, sk - 1);
  return (std::upper_bound(k_starts.begin(), k_starts.end(), at) - k_starts.begin()) - 1;
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
  l.q_starts = uniform_starts(sq, b);
  l.k_starts = uniform_starts(sk, b);
  l.force_diagonal = diagonal_param(spec);
  const bool floor = floor_param(spec);
  l.kept = kept_count(keep, l.nkb(), floor);
  for (std::int64_t i = 0; i < l.nqb(); ++i)
    l.diagonal.push_back(aligned_block(l.k_starts, l.q_starts[i], sq, sk));
  l.finish();
  l.params = {{"block", std::to_string(b)},
              {"keep", json_number(keep)},
              {"diagonal", l.force_diagonal ? "true" : "false"},
              {"rounding", floor ? "\"floor\"" : "\"round\""},
              {"seed", std::to_string(l.seed)}};
  return l;
}

// `blocks: random`: sizes uniform in [min, 2 avg - min] (mean avg) until s is covered; a last
// block shorter than min joins its neighbour, so a block can reach 2 avg - 1.
std::vector<std::int64_t> random_starts(Rng& rng, std::int64_t s, std::int64_t min_block,
                                        std::int64_t avg_block) {
  std::vector<std::int64_t> starts = {0};
  while (starts.back() < s) {
    const std::int64_t size = rng.between(min_block, 2 * avg_block - min_block);
    starts.push_back(std::min(s, starts.back() + size));
  }
  const std::size_t n = starts.size();
  if (n > 2 && starts[n - 1] - starts[n - 2] < min_block) starts.erase(starts.end() - 2);
  return starts;
}

// `blocks: fixed` (LongCA-bench's partition): exactly n = s / avg blocks; the s - n min tokens
// beyond the minimum are split at n - 1 cut points drawn uniformly (with repetition) from
// [0, s - n min] and sorted, so every block is in [min, s - (n - 1) min].
std::vector<std::int64_t> fixed_count_starts(Rng& rng, std::int64_t s, std::int64_t min_block,
                                             std::int64_t avg_block) {
  const std::int64_t n = std::max<std::int64_t>(1, s / avg_block);
  const std::int64_t extra = s - n * min_block;
  if (extra < 0) return {0, s};  // s < min_block: one block
  std::vector<std::int64_t> cuts;
  for (std::int64_t i = 0; i + 1 < n; ++i) cuts.push_back(rng.between(0, extra));
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::int64_t> starts = {0};
  for (std::int64_t i = 0; i + 1 < n; ++i) starts.push_back(cuts[i] + (i + 1) * min_block);
  starts.push_back(s);
  return starts;
}

BlockLayout var_block_sparse_layout(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  BlockLayout l;
  const std::int64_t min_block = int_param(spec, "min_block", 64, 1, kMaxBlock);
  const std::int64_t avg_block = int_param(spec, "avg_block", 128, 1, kMaxBlock);
  if (avg_block < min_block)
    throw InputError(fmt::format("mask '{}': parameter 'avg_block' = {} must be >= min_block ({})", spec.name,
                                 avg_block, min_block));
  const double keep = real_param(spec, "keep", 0.5, 0.0, 1.0);
  const bool independent =
      choice_param(spec, "partition", "shared", {"shared", "independent"}) == "independent";
  const bool fixed = choice_param(spec, "blocks", "random", {"random", "fixed"}) == "fixed";
  l.force_diagonal = diagonal_param(spec);
  const bool floor = floor_param(spec);
  l.seed = seed_param(spec);
  // Stream 0 draws the query partition (and the shared one); the key partition has its own
  // stream, apart from the per-row streams 1, 2, ... of the block choice.
  auto partition = [&](std::uint64_t stream) {
    Rng rng(l.seed, stream);
    return fixed ? fixed_count_starts(rng, s, min_block, avg_block)
                 : random_starts(rng, s, min_block, avg_block);
  };
  l.q_starts = partition(0);
  l.k_starts = independent ? partition(~std::uint64_t{0}) : l.q_starts;
  l.kept = kept_count(keep, l.nkb(), floor);
  for (std::int64_t i = 0; i < l.nqb(); ++i)
    l.diagonal.push_back(independent ? aligned_block(l.k_starts, l.q_starts[i], s, s) : i);
  l.finish();
  l.params = {{"avg_block", std::to_string(avg_block)},
              {"min_block", std::to_string(min_block)},
              {"keep", json_number(keep)},
              {"partition", independent ? "\"independent\"" : "\"shared\""},
              {"blocks", fixed ? "\"fixed\"" : "\"random\""},
              {"diagonal", l.force_diagonal ? "true" : "false"},
              {"rounding", floor ? "\"floor\"" : "\"round\""},
              {"seed", std::to_string(l.seed)}};
  return l;
}

// Chooses the key blocks of query block `row` into kept[0, nkb) and returns their total width:
// with a forced diagonal, the diagonal plus `kept - 1` of the other blocks; without, `kept` of all
// blocks (LongCA-bench's top-k of random scores: every subset of that size equally likely). Each
// candidate is first taken independently with probability ~ choose / candidates (8 random bits
// per block: cheap, branch-free), then random blocks are dropped or added until the count is
// exact. Every step treats the candidates alike, so each subset of the right size is equally
// likely, at a fraction of the cost of drawing the blocks one by one.
std::int64_t choose_row(const BlockLayout& l, std::int64_t row, std::uint8_t* kept) {
  const std::int64_t n = l.nkb();
  const std::int64_t diag = l.force_diagonal ? l.diagonal[row] : -1;
  const std::int64_t candidates = l.force_diagonal ? n - 1 : n,
                     choose = l.force_diagonal ? l.kept - 1 : l.kept;
  Rng rng(l.seed, static_cast<std::uint64_t>(row) + 1);
  const unsigned threshold = candidates > 0
                                 ? static_cast<unsigned>(std::llround(256.0 * static_cast<double>(choose) /
                                                                      static_cast<double>(candidates)))
                                 : 0;
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
  if (diag >= 0 && kept[diag]) {
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
  if (diag < 0) return width;
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
  for (std::int64_t i = 0; i < l.nqb(); ++i)
    area += (l.q_starts[i + 1] - l.q_starts[i]) * choose_row(l, i, kept.data());
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
      if (!row[j]) {
        ++j;
        continue;
      }
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
  const std::string keep_rule =
      "target fraction r in (0, 1] of key blocks kept per query block: kept = max(1, round(r * nkb)), "
      "or max(1, floor(r * nkb)) with rounding: floor; ";
  const MaskParamInfo keep{
      "keep", "0.5",
      keep_rule +
          "the density is kept / nkb (a short last key block aside), r itself only when r * nkb is whole"};
  const MaskParamInfo var_keep{
      "keep", "0.5",
      keep_rule +
          "the expected density is kept / nkb with diagonal: false; a forced diagonal over a shared "
          "partition "
          "raises it (every query block keeps its own square block, and larger blocks weigh more)"};
  const MaskParamInfo diagonal{
      "diagonal", "true",
      "true: the diagonal (bottom-right aligned) block is always one of the kept blocks; "
      "false: all kept blocks are random (LongCA-bench)"};
  const MaskParamInfo rounding{
      "rounding", "round",
      "round: kept = max(1, round(r * nkb)); floor: max(1, floor(r * nkb)) (LongCA-bench's int())"};
  const MaskParamInfo seed{"seed", "0", "seed of the block boundaries and the block choice"};
  return {
      {{"block_sparse",
        "block-sparse",
        "per query block, max(1, round(r * nkb)) key blocks chosen uniformly at random, diagonal always kept "
        "(LongCA-bench: diagonal: false, rounding: floor)",
        {{"block", "128", "block size b >= 1 (queries and keys)"}, keep, diagonal, rounding, seed},
        true},
       make_block_sparse,
       area_block_sparse},
      {{"var_block_sparse",
        "block-sparse",
        "random block boundaries, then as block_sparse; blocks: random: sizes uniform in "
        "[min_block, 2 avg_block - min_block], a short last block merged into its neighbour, so every block "
        "is in "
        "[min_block, 2 avg_block - 1] (one block of S when S < min_block); blocks: fixed: S / avg_block "
        "blocks "
        "from sorted uniform cut points, each in [min_block, S - (n - 1) min_block] "
        "(LongCA-bench: partition: independent, blocks: fixed, diagonal: false, rounding: floor)",
        {{"avg_block", "128", "mean block size, >= min_block"},
         {"min_block", "64", "smallest block size, >= 1"},
         var_keep,
         {"partition", "shared",
          "shared: keys use the query blocks; independent: keys get their own random blocks"},
         {"blocks", "random",
          "random: a random number of blocks (sizes uniform, mean avg_block); fixed: exactly S / avg_block "
          "blocks"},
         diagonal,
         rounding,
         seed},
        false},
       make_var_block_sparse,
       area_var_block_sparse},
  };
}

}  // namespace attnbench::masks
