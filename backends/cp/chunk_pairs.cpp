// Non-empty chunk pairs from exact sub-rectangle areas, and the walk every CP kernel loop shares.
#include "backends/cp/chunk_pairs.hpp"

namespace attnbench::cp {

ChunkPairs::ChunkPairs(const Mask& mask, Ranges mine, Ranges theirs)
    : mine_(std::move(mine)), theirs_(std::move(theirs)) {
  nonempty_.reserve(mine_.size() * theirs_.size());
  for (const auto& a : mine_)
    for (const auto& b : theirs_) nonempty_.push_back(mask.area_in(a.begin, a.size(), b.begin, b.size()) > 0);
}

void ChunkPairs::for_each(ChunkTask t, const Visit& visit) const {
  std::int64_t qoff = 0;
  std::size_t idx = 0;
  for (const auto& a : mine_) {
    std::int64_t koff = 0;
    for (const auto& b : theirs_) {
      if (nonempty_[idx++]) {
        t.q_begin = a.begin;
        t.nq = a.size();
        t.k_begin = b.begin;
        t.nk = b.size();
        visit(t, qoff, koff);
      }
      koff += b.size();
    }
    qoff += a.size();
  }
}

}  // namespace attnbench::cp
