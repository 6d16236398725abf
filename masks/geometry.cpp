// Exact decomposition of a clipped diagonal band into full / causal / inv_causal / bicausal slices.
#include <algorithm>

#include "masks/builders.hpp"

namespace attnbench::masks {

void add_band(std::vector<Slice>& out, std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
              std::int64_t lower, std::int64_t upper) {
  if (c0 >= c1 || lower > upper) return;
  // Keep only rows whose range [max(c0, q + lower), min(c1, q + upper + 1)) is non-empty.
  r0 = std::max(r0, c0 - upper);
  r1 = std::min(r1, c1 - lower);
  if (r0 >= r1) return;
  // From row lower_from on, the left edge is the diagonal q + lower (not the clip c0);
  // before row upper_until, the right edge is the diagonal q + upper + 1 (not the clip c1).
  const std::int64_t lower_from = std::clamp(c0 - lower, r0, r1);
  const std::int64_t upper_until = std::clamp(c1 - upper, r0, r1);
  std::int64_t cuts[4] = {r0, lower_from, upper_until, r1};
  std::sort(cuts, cuts + 4);
  for (int i = 0; i < 3; ++i) {
    const std::int64_t s = cuts[i], e = cuts[i + 1];
    if (s >= e) continue;
    const bool diagonal_left = s >= lower_from;
    const bool diagonal_right = e <= upper_until;
    // Slice alignment rules (mask.hpp): causal's right edge is q + (k_end - q_end),
    // inv_causal's left edge is q + (k_begin - q_begin).
    if (!diagonal_left && !diagonal_right)
      out.push_back({s, e, c0, c1, SliceType::full});
    else if (!diagonal_left)
      out.push_back({s, e, c0, e + upper, SliceType::causal});
    else if (!diagonal_right)
      out.push_back({s, e, s + lower, c1, SliceType::inv_causal});
    else
      out.push_back({s, e, s + lower, e + upper, SliceType::bicausal});
  }
}

}  // namespace attnbench::masks
