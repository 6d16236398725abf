// The chunk pairs of one rank against another: which the mask leaves non-empty, and a walk over them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "attnbench/backend.hpp"
#include "backends/cp/layout.hpp"

namespace attnbench::cp {

class ChunkPairs {
 public:
  // Decided once per plan: pair (a, b) is kept when the mask allows any (q, k)
  // with q in mine[a] and k in theirs[b].
  ChunkPairs(const Mask&, Ranges mine, Ranges theirs);

  using Visit = std::function<void(const ChunkTask&, std::int64_t qoff, std::int64_t koff)>;
  // Calls visit(task, qoff, koff) for every non-empty pair, with the task's ranges
  // set (the rest of `base` kept) and qoff/koff the token offsets of the two
  // ranges in the packed local buffers.
  void for_each(ChunkTask base, const Visit& visit) const;
  // Allowed pairs over all chunk pairs (the work of one visit, per head and batch entry).
  std::int64_t area() const { return area_; }

 private:
  Ranges mine_, theirs_;
  std::vector<std::uint8_t> nonempty_;  // [a * |theirs| + b]
  std::int64_t area_ = 0;
};

}  // namespace attnbench::cp
