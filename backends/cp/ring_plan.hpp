// The stream/event plan of the double-buffered device ring (comm: nccl) as data, and the checks it must pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnbench::cp {

// Two streams per rank: the compute stream runs chunk kernels while the comm stream
// moves the next block. The plan is the order in which the host issues work onto them.
enum class Lane { comm, compute };

// Buffers the plan reads and writes: two K/V blocks, two travelling dK/dV accumulators,
// one contribution buffer (this rank's dK/dV for the block it just attended).
enum class Family { kv, grad, contrib };

enum class OpKind {
  load_own,    // compute: our own K/V into kv[0]
  zero_grad,   // compute: grad[0] = 0, the accumulator of our own block
  send,        // comm: buffer to the next rank (inside a group)
  recv,        // comm: buffer from the previous rank (inside a group)
  attend_fwd,  // compute: queries against kv[buffer]; merges into O/LSE
  attend_bwd,  // compute: dQ += ..., contrib = this rank's dK/dV of kv[buffer]
  accumulate,  // compute: grad[buffer] += contrib
  store_grad,  // compute: grad[buffer] (our own block, home again) -> dK, dV
  record,      // an event slot recorded on the lane
  wait,        // the lane waits for an event instance
  mark,        // a timing event (per step: wait_begin, compute_begin, compute_end)
};

enum class Mark { none, wait_begin, compute_begin, compute_end };

struct PlanOp {
  Lane lane = Lane::compute;
  OpKind kind = OpKind::record;
  int step = -1;
  Family family = Family::kv;
  int buffer = -1;    // index within `family`
  int owner = -1;     // rank whose block the buffer holds (read or, for writes, after the op)
  int peer = 0;       // send/recv: +1 the next rank, -1 the previous one
  int group = -1;     // send/recv of one ncclGroupStart/End share an id
  int event = -1;     // record/wait: the event slot
  int instance = -1;  // record: a fresh id; wait: the id of the record it waits for
  Mark mark = Mark::none;
};

struct RingPlan {
  int ring_size = 1, me = 0;
  bool backward = false;
  int event_slots = 0;
  std::vector<PlanOp> ops;  // host issue order
};

// Event slots the ring plans use (a CUDA event can be re-recorded; a wait binds to the
// latest record when it is issued).
namespace slot {
constexpr int loaded = 0;      // own K/V loaded (compute -> comm, first send)
constexpr int arrived = 1;     // + buffer: a K/V block arrived (comm -> compute)
constexpr int freed = 3;       // + buffer: compute done reading a K/V block (compute -> comm)
constexpr int grad_ready = 5;  // + buffer: accumulator updated (compute -> comm)
constexpr int grad_came = 7;   // + buffer: accumulator arrived (comm -> compute)
constexpr int count = 9;
}  // namespace slot

// The rank the block attended at step t comes from: (me - t) mod P (RingEngine's single-level order).
int ring_step_owner(int me, int ring_size, int step);

// The plan of ring member `me` of `ring_size`: K/V double-buffered, the next block's send/recv
// group on the comm stream while the compute stream attends the current one; in the backward
// the dK/dV accumulators travel one step behind on the same stream and come home at the end.
RingPlan plan_ring(int me, int ring_size, bool backward);

// What is wrong with one rank's plan (empty: sound), from the happens-before order of its
// two lanes and their events: every access to a buffer is ordered with every write to it
// (no block overwritten while read), every read sees the block of the owner it expects
// (every compute waits for its block's arrival), waits bind to the record they name, group
// members touch distinct buffers, and the backward stores its own accumulator.
std::vector<std::string> check_ring_plan(const RingPlan&);

// Cross-rank: the sends of rank r to r+1 and the receives of r+1 from r pair up in order
// with the same family and owner (NCCL matches point-to-point in posting order).
std::vector<std::string> check_ring_pairing(const std::vector<RingPlan>& plans);

}  // namespace attnbench::cp
