// Builds the double-buffered device ring's plan and checks it by a happens-before simulation of its lanes.
#include "backends/cp/ring_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "backends/cp/schedule.hpp"

namespace attnbench::cp {

// RingEngine's single-level ring: one window of P members (steps 0..P).
int ring_step_owner(int me, int P, int step) { return ring_owner(me, P, 1, 0, step); }

namespace {

// Appends ops in issue order; hands out fresh event instances and group ids.
struct Builder {
  RingPlan plan;
  int instances = 0, groups = 0;
  std::array<int, slot::count> latest{};  // slot -> its last instance

  Builder() { latest.fill(-1); }
  PlanOp& add(Lane lane, OpKind kind, int step) {
    PlanOp op;
    op.lane = lane;
    op.kind = kind;
    op.step = step;
    plan.ops.push_back(op);
    return plan.ops.back();
  }
  void access(Lane lane, OpKind kind, int step, Family f, int buffer, int owner) {
    PlanOp& op = add(lane, kind, step);
    op.family = f;
    op.buffer = buffer;
    op.owner = owner;
  }
  void record(Lane lane, int event, int step) {
    PlanOp& op = add(lane, OpKind::record, step);
    op.event = event;
    op.instance = instances++;
    latest[event] = op.instance;
  }
  void wait(Lane lane, int event, int step) {
    PlanOp& op = add(lane, OpKind::wait, step);
    op.event = event;
    op.instance = latest[event];
  }
  void mark(int step, Mark m) { add(Lane::compute, OpKind::mark, step).mark = m; }
  // One ncclGroupStart/End: send `buffer` (owner `out`) forward, receive `into` (owner `in`) from behind.
  void exchange(Family f, int step, int buffer, int out, int into, int in) {
    const int g = groups++;
    access(Lane::comm, OpKind::send, step, f, buffer, out);
    plan.ops.back().peer = +1;
    plan.ops.back().group = g;
    access(Lane::comm, OpKind::recv, step, f, into, in);
    plan.ops.back().peer = -1;
    plan.ops.back().group = g;
  }
};

}  // namespace

RingPlan plan_ring(int me, int P, bool backward) {
  Builder b;
  b.plan.ring_size = P;
  b.plan.me = me;
  b.plan.backward = backward;
  b.plan.event_slots = slot::count;
  b.access(Lane::compute, OpKind::load_own, -1, Family::kv, 0, me);
  b.record(Lane::compute, slot::loaded, -1);
  if (backward) b.access(Lane::compute, OpKind::zero_grad, -1, Family::grad, 0, me);
  for (int t = 0; t < P; ++t) {
    const int cur = t % 2, nxt = (t + 1) % 2;
    const int owner = ring_step_owner(me, P, t), next_owner = ring_step_owner(me, P, t + 1);
    // Comm: the next block, into the buffer the compute stream finished with one step ago.
    if (t < P - 1) {
      if (t == 0) b.wait(Lane::comm, slot::loaded, t);
      if (t > 0) b.wait(Lane::comm, slot::freed + nxt, t);
      b.exchange(Family::kv, t, cur, owner, nxt, next_owner);
      b.record(Lane::comm, slot::arrived + nxt, t);
    }
    // Compute: wait for this step's block (timed: the exposed communication), attend it.
    b.mark(t, Mark::wait_begin);
    if (t > 0) b.wait(Lane::compute, slot::arrived + cur, t);
    b.mark(t, Mark::compute_begin);
    if (!backward) {
      b.access(Lane::compute, OpKind::attend_fwd, t, Family::kv, cur, owner);
      b.record(Lane::compute, slot::freed + cur, t);
      b.mark(t, Mark::compute_end);
      continue;
    }
    b.access(Lane::compute, OpKind::attend_bwd, t, Family::kv, cur, owner);
    b.record(Lane::compute, slot::freed + cur, t);
    // The accumulator of this block came from the previous holder one step ago.
    if (t > 0) b.wait(Lane::compute, slot::grad_came + cur, t);
    b.access(Lane::compute, OpKind::accumulate, t, Family::grad, cur, owner);
    b.mark(t, Mark::compute_end);
    b.record(Lane::compute, slot::grad_ready + cur, t);
    // Comm: pass it on; the last pass brings our own accumulator home.
    b.wait(Lane::comm, slot::grad_ready + cur, t);
    b.exchange(Family::grad, t, cur, owner, nxt, next_owner);
    b.record(Lane::comm, slot::grad_came + nxt, t);
  }
  if (backward) {
    const int home = P % 2;
    b.wait(Lane::compute, slot::grad_came + home, P);
    b.access(Lane::compute, OpKind::store_grad, P, Family::grad, home, me);
  }
  return b.plan;
}

namespace {

struct Access {
  Family family;
  int buffer, owner;
  bool write;
};

// What an op reads and writes; an accumulate reads contrib and reads then writes its accumulator.
std::vector<Access> accesses(const PlanOp& op) {
  switch (op.kind) {
    case OpKind::load_own:
    case OpKind::zero_grad:
    case OpKind::recv: return {{op.family, op.buffer, op.owner, true}};
    case OpKind::send:
    case OpKind::attend_fwd:
    case OpKind::store_grad: return {{op.family, op.buffer, op.owner, false}};
    case OpKind::attend_bwd:
      return {{op.family, op.buffer, op.owner, false}, {Family::contrib, 0, op.owner, true}};
    case OpKind::accumulate:
      return {{Family::contrib, 0, op.owner, false},
              {op.family, op.buffer, op.owner, false},
              {op.family, op.buffer, op.owner, true}};
    default: return {};
  }
}

const char* name(Family f) { return f == Family::kv ? "kv" : f == Family::grad ? "grad" : "contrib"; }

const char* name(OpKind k) {
  constexpr const char* names[] = {"load_own",   "zero_grad",  "send",   "recv", "attend_fwd", "attend_bwd",
                                   "accumulate", "store_grad", "record", "wait", "mark"};
  return names[static_cast<int>(k)];
}

std::string describe(const RingPlan& p, std::size_t i) {
  const PlanOp& op = p.ops[i];
  return fmt::format("op {} ({} on {}, step {})", i, name(op.kind),
                     op.lane == Lane::comm ? "comm" : "compute", op.step);
}

}  // namespace

std::vector<std::string> check_ring_plan(const RingPlan& p) {
  std::vector<std::string> errors;
  const std::size_t n = p.ops.size();
  // Vector clocks over the two lanes: clock[i][L] = ops of lane L that op i is known to follow.
  std::vector<std::array<int, 2>> clock(n);
  std::vector<int> pos(n);
  std::array<std::array<int, 2>, 2> lane_clock{};
  std::map<int, std::array<int, 2>> recorded;  // instance -> clock of its lane after the record
  std::vector<int> latest(static_cast<std::size_t>(p.event_slots), -1);
  for (std::size_t i = 0; i < n; ++i) {
    const PlanOp& op = p.ops[i];
    const int L = static_cast<int>(op.lane);
    clock[i] = lane_clock[L];
    pos[i] = lane_clock[L][L];
    ++lane_clock[L][L];
    if (op.kind == OpKind::record) {
      if (op.event < 0 || op.event >= p.event_slots)
        errors.push_back(describe(p, i) + ": no such event slot");
      else
        latest[op.event] = op.instance;
      recorded[op.instance] = lane_clock[L];
    } else if (op.kind == OpKind::wait) {
      auto it = recorded.find(op.instance);
      if (it == recorded.end() || op.event < 0 || op.event >= p.event_slots ||
          latest[op.event] != op.instance) {
        errors.push_back(describe(p, i) +
                         ": waits for an event instance that is not the slot's latest record");
      } else {
        for (int l = 0; l < 2; ++l) lane_clock[L][l] = std::max(lane_clock[L][l], it->second[l]);
      }
    }
  }
  // a (issued first) happens before b: program order on one lane, else through an event.
  auto before = [&](std::size_t a, std::size_t b) {
    const int La = static_cast<int>(p.ops[a].lane);
    if (p.ops[a].lane == p.ops[b].lane) return true;
    return clock[b][La] > pos[a];
  };

  struct Use {
    std::size_t op;
    Access a;
  };
  std::vector<Use> uses;
  for (std::size_t i = 0; i < n; ++i)
    for (const Access& a : accesses(p.ops[i])) uses.push_back({i, a});
  for (std::size_t y = 0; y < uses.size(); ++y) {
    const Use& u = uses[y];
    const Use* last_write = nullptr;
    for (std::size_t x = 0; x < y; ++x) {
      const Use& w = uses[x];
      if (w.a.family != u.a.family || w.a.buffer != u.a.buffer || w.op == u.op) continue;
      if (!w.a.write && !u.a.write) continue;
      const PlanOp &ow = p.ops[w.op], &ou = p.ops[u.op];
      if (ow.group >= 0 && ow.group == ou.group) {
        errors.push_back(fmt::format("{} and {}: one group reads and writes {}[{}]", describe(p, w.op),
                                     describe(p, u.op), name(u.a.family), u.a.buffer));
      } else if (!before(w.op, u.op)) {
        errors.push_back(fmt::format("{} and {}: unordered accesses to {}[{}] (one writes it)",
                                     describe(p, w.op), describe(p, u.op), name(u.a.family), u.a.buffer));
      }
      if (w.a.write) last_write = &w;
    }
    if (u.a.write) continue;
    if (last_write == nullptr)
      errors.push_back(fmt::format("{}: reads {}[{}] before anything was written to it", describe(p, u.op),
                                   name(u.a.family), u.a.buffer));
    else if (last_write->a.owner != u.a.owner)
      errors.push_back(fmt::format("{}: reads {}[{}] expecting the block of rank {} but it holds rank {}'s",
                                   describe(p, u.op), name(u.a.family), u.a.buffer, u.a.owner,
                                   last_write->a.owner));
  }
  // Every block attended exactly once; in the backward our own accumulator is stored.
  std::vector<int> attended(static_cast<std::size_t>(p.ring_size), 0);
  int stored = 0;
  for (const PlanOp& op : p.ops) {
    if ((op.kind == OpKind::attend_fwd || op.kind == OpKind::attend_bwd) && op.owner >= 0 &&
        op.owner < p.ring_size)
      ++attended[op.owner];
    if (op.kind == OpKind::store_grad && op.owner == p.me) ++stored;
  }
  for (int r = 0; r < p.ring_size; ++r)
    if (attended[r] != 1)
      errors.push_back(fmt::format("rank {} attends the block of rank {} {} times", p.me, r, attended[r]));
  if (p.backward && stored != 1)
    errors.push_back(fmt::format("rank {} stores its dK/dV {} times", p.me, stored));
  return errors;
}

std::vector<std::string> check_ring_pairing(const std::vector<RingPlan>& plans) {
  std::vector<std::string> errors;
  const int P = static_cast<int>(plans.size());
  for (int r = 0; r < P; ++r) {
    const int dest = (r + 1) % P;
    std::vector<std::pair<Family, int>> sent, got;
    for (const PlanOp& op : plans[r].ops)
      if (op.kind == OpKind::send && op.peer == +1) sent.emplace_back(op.family, op.owner);
    for (const PlanOp& op : plans[dest].ops)
      if (op.kind == OpKind::recv && op.peer == -1) got.emplace_back(op.family, op.owner);
    if (sent.size() != got.size()) {
      errors.push_back(fmt::format("rank {} sends {} blocks to rank {}, which receives {}", r, sent.size(),
                                   dest, got.size()));
      continue;
    }
    for (std::size_t i = 0; i < sent.size(); ++i)
      if (sent[i] != got[i])
        errors.push_back(
            fmt::format("message {} from rank {} to {}: sends {} of rank {}, receives {} of rank {}", i, r,
                        dest, name(sent[i].first), sent[i].second, name(got[i].first), got[i].second));
  }
  return errors;
}

}  // namespace attnbench::cp
