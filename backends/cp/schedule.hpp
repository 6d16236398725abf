// The CP strategies' schedule as pure functions of the plan (no data, no communicator): which token
// ranges each rank holds, which K/V block it attends at each step, and the bytes it sends. The real
// executions (ring_engine, usp_execution, allgather_execution) and the scale model (model/) share it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cp/layout.hpp"

namespace attnbench::cp {

// Heads [begin, begin + count) of one Ulysses member.
struct HeadSpan {
  std::int64_t begin = 0, count = 0;
};
// Query heads split evenly over u members; KV heads split evenly, or replicated when u is a
// multiple of heads_kv (member m then holds KV head m / (u / heads_kv)).
std::vector<HeadSpan> ulysses_q_heads(std::int64_t heads_q, int u);
std::vector<HeadSpan> ulysses_kv_heads(std::int64_t heads_kv, int u);

// Floats per member j of one all-to-all of member `member` in slot `slot`: seq[j], member j's heads
// over our own tokens (what we send going to heads); head[j], our heads over member j's tokens.
struct HeadCounts {
  std::vector<std::int64_t> seq, head;
};
HeadCounts ulysses_counts(const std::vector<HeadSpan>& spans, std::int64_t width, std::int64_t batch,
                          const std::vector<Ranges>& rank_ranges, int slot, int member, int u);

// The layout of a Ulysses × ring execution: rank = slot * u + member; ring slot s owns
// slot_ranges[s]; member m holds piece m of every range of it (rank_ranges).
struct UspPlan {
  int world = 1, ulysses = 1, slots = 1, window = 1;
  Balance balance = Balance::contiguous;
  std::vector<Ranges> slot_ranges, rank_ranges;
  std::string layout_note;  // e.g. "zigzag ulysses=2"
};
// window 0: one ring over all slots.
UspPlan plan_usp(const Mask&, std::int64_t seqlen, int world, int ulysses, int window, Balance,
                 int chunks_per_slot);

// Ring member `me` of a two-level ring (window W inner members, outer_size windows) attends
// at inner step t of outer step `step` the K/V block of this member.
int ring_owner(int me, int window, int outer_size, int step, int t);

// One step of a rank's pass: it attends its query ranges to `owner`'s keys and sends `bytes`
// (the exchanges posted in that step).
struct Step {
  int owner = 0;
  std::uint64_t bytes = 0;
  std::uint64_t outer_bytes = 0;  // the part of `bytes` sent on the outer ring of a double ring
};
// One rank's pass: collectives before the steps, the steps, collectives after them.
struct RankSchedule {
  std::uint64_t bytes_before = 0;
  std::vector<Step> steps;
  std::uint64_t bytes_after = 0;
  std::uint64_t bytes() const;
};

// The RingEngine's pass for member `me`: step s = outer_step * window + t. `block_bytes[m]`:
// bytes of member m's [K | V] block (also of its [dK | dV] accumulator in the backward).
RankSchedule ring_schedule(int me, int window, const std::vector<std::uint64_t>& block_bytes, bool backward);

// The whole Ulysses × ring pass of rank `rank` (all-to-alls around the ring), with
// `elem_bytes` per tensor element. Step owners are ring slots.
RankSchedule usp_schedule(const UspPlan&, int rank, std::int64_t batch, std::int64_t heads_q,
                          std::int64_t heads_kv, std::int64_t head_dim, bool backward,
                          std::uint64_t elem_bytes);

// allgather_kv: every rank holds ranks[r]; it attends its own block first (while K/V are
// gathered), then every other rank's in rank order; the backward reduce-scatters dK/dV.
RankSchedule allgather_schedule(const std::vector<Ranges>& ranks, int rank, std::int64_t batch,
                                std::int64_t heads_kv, std::int64_t head_dim, bool backward,
                                std::uint64_t elem_bytes);

}  // namespace attnbench::cp
