// Issues a RingPlan onto a device's two lanes and a DeviceComm; the per-step times its timing marks give.
#pragma once

#include <cstddef>
#include <vector>

#include "backends/cp/ring_plan.hpp"
#include "harness/comm/device_comm.hpp"

namespace attnbench::cp {

// What a plan needs of a device: a stream per lane, event slots, the buffers, and the
// compute-lane work. CUDA implements it with streams, cudaEvent_t and chunk kernels on
// device buffers; HostRingLanes runs everything on the host at once (for CPU tests).
class PlanLanes {
 public:
  virtual ~PlanLanes() = default;
  virtual comm::StreamHandle stream(Lane) = 0;
  virtual void record(Lane, int event_slot) = 0;
  virtual void wait(Lane, int event_slot) = 0;
  // A timing event of `step` on the compute lane.
  virtual void mark(int step, Mark) = 0;
  // load_own, zero_grad, attend_fwd, attend_bwd, accumulate, store_grad.
  virtual void work(const PlanOp&) = 0;
  virtual void* buffer(Family, int index) = 0;
  // Bytes of the [K | V] block (or [dK | dV] accumulator) of ring member `owner`.
  virtual std::size_t block_bytes(int owner) const = 0;
};

// Issues the ops in order: consecutive send/recv of one group go between group_start and
// group_end, to ranks me ± 1 of `comm` (whose rank and size must be the plan's).
void run_ring_plan(const RingPlan&, comm::DeviceComm&, PlanLanes&);

// Seconds per step from the three marks of each step (the lanes' clock, e.g. cudaEventElapsedTime).
struct StepTime {
  double compute_s = 0;  // compute_begin -> compute_end
  double exposed_s = 0;  // wait_begin -> compute_begin: the compute lane waiting for its block
};
struct StepMarks {
  double wait_begin = 0, compute_begin = 0, compute_end = 0;
};
std::vector<StepTime> step_times(const std::vector<StepMarks>&);

}  // namespace attnbench::cp
