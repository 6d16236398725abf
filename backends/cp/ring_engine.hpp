// The two-level ring (LoongTrain's double ring; one level when window = ring size): forward and backward.
#pragma once

#include <chrono>
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

// Adds the seconds of its scope to a ComputeClock.
class ComputeTimer {
 public:
  explicit ComputeTimer(ComputeClock& clock) : clock_(clock) {}
  ~ComputeTimer() {
    clock_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  ComputeTimer(const ComputeTimer&) = delete;
  ComputeTimer& operator=(const ComputeTimer&) = delete;

 private:
  ComputeClock& clock_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
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

  void forward(const float* q, const float* k, const float* v, float* o, float* lse, ComputeClock&);
  // dq, dk, dv are overwritten (local chunk-major layouts).
  void backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                const float* dout, float* dq, float* dk, float* dv, ComputeClock&);

 private:
  // Floats of one of K or V of a member's block; bytes of its [K | V] (or [dK | dV]) block.
  std::int64_t kv_elems(int member) const { return kv_elems_[member]; }
  std::size_t block_bytes(int member) const {
    return static_cast<std::size_t>(2 * kv_elems_[member]) * sizeof(float);
  }
  int member(int outer, int inner) const { return outer * window_ + inner; }
  // Copies our own K and V into kv_[0], the first block of the outer ring; returns it.
  float* load_own_block(const float* k, const float* v);
  // One step of the inner ring: `send` (member `owner`'s block) goes to the next inner
  // member while the previous one's (member `next`'s) arrives in `recv`.
  CommRequestPtr pass_inner(Communicator&, const float* send, int owner, float* recv, int next,
                            int tag) const;
  // One step of the outer ring: the block of window `owner_outer` (our inner index)
  // goes to the next window while the previous window's arrives in `recv`.
  CommRequestPtr pass_outer(Communicator&, const float* send, float* recv, int owner_outer, int tag) const;
  void attend_forward(int owner, const float* kv, const float* q, float* o, float* lse, ComputeClock&);
  void attend_backward(int owner, const float* kv, const float* q, const float* o, const float* lse,
                       const float* dout, float* dq, float* contrib, ComputeClock&);

  int window_, outer_size_, me_, inner_, outer_;
  std::vector<Ranges> members_;
  Geometry g_;
  ChunkTask task_;  // g_ as a chunk task; the pairs walk sets the ranges
  const ChunkKernel& kernel_;
  std::unique_ptr<Communicator> inner_kv_, inner_grad_, outer_kv_, outer_grad_;
  std::vector<ChunkPairs> pairs_;       // [owner]: my ranges against the owner's
  std::vector<std::int64_t> kv_elems_;  // [member]
  HostBuffer<float> kv_[4];             // outer current, outer next, inner A, inner B ([K | V])
  HostBuffer<float> dkv_[4];            // contribution, inner A, inner B, outer ([dK | dV])
  HostBuffer<float> o_tmp_, lse_tmp_, dq_tmp_, dk_tmp_, dv_tmp_;
};

}  // namespace attnbench::cp
