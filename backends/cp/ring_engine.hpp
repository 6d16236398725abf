// The two-level ring (LoongTrain's double ring; one level when window = ring size): forward and backward.
#pragma once

#include <memory>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/comm.hpp"
#include "backends/cp/chunk_pairs.hpp"
#include "backends/cp/layout.hpp"

namespace attnbench::cp {

// Local head counts and the rest of the chunk geometry.
struct Geometry {
  std::int64_t batch = 1, heads_q = 1, heads_kv = 1, head_dim = 0;
  double softmax_scale = 0;
  DType dtype = DType::fp32;
  const Mask* mask = nullptr;
  std::int64_t q_width() const { return heads_q * head_dim; }
  std::int64_t kv_width() const { return heads_kv * head_dim; }
};

// Seconds spent in chunk kernels and merges during one pass (the rest is communication).
struct ComputeClock {
  double seconds = 0;
};

// Ring members m = outer * window + inner hold the token ranges members[m]
// (chunk-major local tensors). K/V blocks rotate around the inner ring of
// `window` members while the outer ring (members with the same inner index)
// passes blocks between windows, overlapped with the inner rotations; the next
// block's receive is posted before the current block is computed. In the
// backward, dK/dV accumulators travel with their blocks on separate
// communicators and return to their owners.
class RingEngine {
 public:
  // Allocates only (no communication): `ring_rank` is this rank's member index.
  RingEngine(int ring_rank, int window, std::vector<Ranges> members, Geometry, const ChunkKernel&,
             MemoryTracker&, bool backward);
  // Creates the inner/outer communicators (collective over `ring`, of members.size() ranks).
  void setup(Communicator& ring);

  void forward(const float* q, const float* k, const float* v, float* o, float* lse,
               ComputeClock&);
  // dq, dk, dv are overwritten (local chunk-major layouts).
  void backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                const float* dout, float* dq, float* dk, float* dv, ComputeClock&);

  // Chunk-kernel calls skipped because the mask leaves the rectangle empty.
  std::int64_t skipped_pairs() const { return skipped_; }

 private:
  std::int64_t kv_elems(int member) const;  // floats of one of K or V of a member's block
  int member(int outer, int inner) const { return outer * window_ + inner; }
  // Walks the non-empty pairs (my range, owner's range); empty ones add to skipped_.
  void for_each_pair(int owner, const ChunkPairs::Visit& visit);
  void attend_forward(int owner, const float* kv, const float* q, float* o, float* lse,
                      ComputeClock&);
  void attend_backward(int owner, const float* kv, const float* q, const float* o,
                       const float* lse, const float* dout, float* dq, float* contrib,
                       ComputeClock&);

  int window_, outer_size_, me_, inner_, outer_;
  std::vector<Ranges> members_;
  Geometry g_;
  const ChunkKernel& kernel_;
  std::unique_ptr<Communicator> inner_kv_, inner_grad_, outer_kv_, outer_grad_;
  std::vector<ChunkPairs> pairs_;  // [owner]: my ranges against the owner's
  std::int64_t skipped_ = 0;
  HostBuffer<float> kv_[4];    // outer current, outer next, inner A, inner B ([K | V])
  HostBuffer<float> dkv_[4];   // contribution, inner A, inner B, outer ([dK | dV])
  HostBuffer<float> o_tmp_, lse_tmp_, dq_tmp_, dk_tmp_, dv_tmp_;
};

}  // namespace attnbench::cp
