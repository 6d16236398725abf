// Issues a RingPlan: lane work and events to PlanLanes, grouped sends and receives to a DeviceComm.
#include "backends/cp/ring_plan_run.hpp"

#include <stdexcept>

namespace attnbench::cp {

void run_ring_plan(const RingPlan& plan, comm::DeviceComm& comm, PlanLanes& lanes) {
  const int P = plan.ring_size;
  if (comm.size() != P || comm.rank() != plan.me)
    throw std::logic_error("run_ring_plan: the communicator is not the plan's ring");
  int open_group = -1;
  for (const PlanOp& op : plan.ops) {
    const bool p2p = op.kind == OpKind::send || op.kind == OpKind::recv;
    if (open_group >= 0 && (!p2p || op.group != open_group)) {
      comm.group_end();
      open_group = -1;
    }
    switch (op.kind) {
      case OpKind::send:
      case OpKind::recv: {
        if (op.group >= 0 && op.group != open_group) {
          comm.group_start();
          open_group = op.group;
        }
        const int peer = ((plan.me + op.peer) % P + P) % P;
        void* buf = lanes.buffer(op.family, op.buffer);
        if (op.kind == OpKind::send)
          comm.send(buf, lanes.block_bytes(op.owner), peer, lanes.stream(op.lane));
        else
          comm.recv(buf, lanes.block_bytes(op.owner), peer, lanes.stream(op.lane));
        break;
      }
      case OpKind::record: lanes.record(op.lane, op.event); break;
      case OpKind::wait: lanes.wait(op.lane, op.event); break;
      case OpKind::mark: lanes.mark(op.step, op.mark); break;
      default: lanes.work(op);
    }
  }
  if (open_group >= 0) comm.group_end();
}

std::vector<StepTime> step_times(const std::vector<StepMarks>& marks) {
  std::vector<StepTime> t;
  for (const StepMarks& m : marks)
    t.push_back({m.compute_end - m.compute_begin, m.compute_begin - m.wait_begin});
  return t;
}

}  // namespace attnbench::cp
