// The visible-key count of a mask as the union of its slices' key ranges (see visible_keys.hpp).
#include "masks/visible_keys.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace attnbench::masks {

std::int64_t visible_key_count(const Mask& m) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (const Slice& s : m.slices())
    if (s.area() > 0)
      ranges.emplace_back(std::max<std::int64_t>(s.k_begin, 0), std::min(s.k_end, m.seqlen_k()));
  std::sort(ranges.begin(), ranges.end());
  std::int64_t count = 0, covered = 0;  // keys below `covered` are counted already
  for (auto [lo, hi] : ranges) {
    lo = std::max(lo, covered);
    if (hi > lo) count += hi - lo, covered = hi;
  }
  return count;
}

}  // namespace attnbench::masks
