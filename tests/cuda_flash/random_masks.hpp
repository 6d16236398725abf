// Random masks for the cuda.flash tile tests: unions of random slices, with sizes that are not tile
// multiples.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::cuda::flash::test {

// Allowed(q, k) straight from the slices' row ranges (the definition the tiles must match).
inline MaskPtr mask_from_slices(std::int64_t sq, std::int64_t sk, std::vector<Slice> slices) {
  auto pred = [slices](std::int64_t q, std::int64_t k) {
    for (const auto& s : slices) {
      auto [lo, hi] = s.row_range(q);
      if (k >= lo && k < hi) return true;
    }
    return false;
  };
  return std::make_shared<Mask>("random_slices", sq, sk, std::vector<std::pair<std::string, std::string>>{},
                                slices, pred);
}

inline MaskPtr random_mask(std::mt19937_64& rng, std::int64_t sq, std::int64_t sk) {
  std::uniform_int_distribution<int> count(0, 6);
  std::uniform_int_distribution<int> type(0, 3);
  std::vector<Slice> slices;
  const int n = count(rng);
  for (int i = 0; i < n; ++i) {
    std::uniform_int_distribution<std::int64_t> qd(0, sq), kd(0, sk);
    std::int64_t a = qd(rng), b = qd(rng), c = kd(rng), d = kd(rng);
    if (a > b) std::swap(a, b);
    if (c > d) std::swap(c, d);
    slices.push_back({a, b, c, d, static_cast<SliceType>(type(rng))});
  }
  return mask_from_slices(sq, sk, std::move(slices));
}

// Dense 0/1 mask from the predicate, [sq][sk].
inline std::vector<std::uint8_t> dense_from_predicate(const Mask& m) {
  std::vector<std::uint8_t> d(static_cast<std::size_t>(m.seqlen_q() * m.seqlen_k()));
  for (std::int64_t q = 0; q < m.seqlen_q(); ++q)
    for (std::int64_t k = 0; k < m.seqlen_k(); ++k) d[q * m.seqlen_k() + k] = m.allowed(q, k) ? 1 : 0;
  return d;
}

}  // namespace attnbench::cuda::flash::test
