// PlanLanes on the host: the device ring plan's data movement and chunk work run at once, for CPU tests.
#pragma once

#include <chrono>
#include <vector>

#include "backends/cp/chunk_pairs.hpp"
#include "backends/cp/ring_engine.hpp"
#include "backends/cp/ring_plan_run.hpp"

namespace attnbench::cp {

// Ring member `me` of `members` (chunk-major local tensors, as RingEngine) with any chunk
// kernel: every lane op completes when issued, events are no-ops, marks read the host
// clock. It proves the plan moves the right blocks into the right buffers (results
// against the float64 reference); check_ring_plan proves the ordering on real streams.
class HostRingLanes final : public PlanLanes {
 public:
  HostRingLanes(int me, std::vector<Ranges> members, Geometry, const ChunkKernel&, MemoryTracker&);

  // One pass of `plan` (plan_ring(me, members.size(), ...)) over `comm`.
  void forward(const RingPlan&, comm::DeviceComm&, const float* q, const float* k, const float* v, float* o,
               float* lse);
  void backward(const RingPlan&, comm::DeviceComm&, const float* q, const float* k, const float* v,
                const float* o, const float* lse, const float* dout, float* dq, float* dk, float* dv);
  std::vector<StepTime> last_step_times() const { return step_times(marks_); }

  comm::StreamHandle stream(Lane) override { return nullptr; }
  void record(Lane, int) override {}
  void wait(Lane, int) override {}
  void mark(int step, Mark) override;
  void work(const PlanOp&) override;
  void* buffer(Family, int index) override;
  std::size_t block_bytes(int owner) const override {
    return static_cast<std::size_t>(2 * kv_elems_[owner]) * sizeof(float);
  }

 private:
  int me_;
  std::vector<Ranges> members_;
  Geometry g_;
  ChunkTask task_;
  const ChunkKernel& kernel_;
  std::vector<ChunkPairs> pairs_;       // [owner]: my ranges against the owner's
  std::vector<std::int64_t> kv_elems_;  // [owner]: floats of one of its K or V
  HostBuffer<float> kv_[2], grad_[2], contrib_, o_tmp_, lse_tmp_, dq_tmp_, dk_tmp_, dv_tmp_;
  std::vector<StepMarks> marks_;
  std::chrono::steady_clock::time_point t0_;
  // The pass's tensors (null where the pass has none).
  const float *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *o_in_ = nullptr, *lse_in_ = nullptr,
              *dout_ = nullptr;
  float *o_ = nullptr, *lse_ = nullptr, *dq_ = nullptr, *dk_ = nullptr, *dv_ = nullptr;
};

}  // namespace attnbench::cp
