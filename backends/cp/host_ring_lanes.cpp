// The host PlanLanes: each ring plan op done on the spot with the chunk kernel and LSE merges.
#include "backends/cp/host_ring_lanes.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "backends/cp/merge.hpp"

namespace attnbench::cp {

HostRingLanes::HostRingLanes(int me, std::vector<Ranges> members, Geometry g, const ChunkKernel& kernel,
                             MemoryTracker& mem)
    : me_(me), members_(std::move(members)), g_(g), task_(g.chunk_task()), kernel_(kernel) {
  std::int64_t max_tokens = 0, max_range = 0;
  for (const Ranges& m : members_) {
    max_tokens = std::max(max_tokens, total_tokens(m));
    for (const auto& r : m) max_range = std::max(max_range, r.size());
    pairs_.emplace_back(*g_.mask, members_[me_], m);
    kv_elems_.push_back(g_.batch * total_tokens(m) * g_.kv_width());
  }
  const auto block = static_cast<std::size_t>(2 * g_.batch * max_tokens * g_.kv_width());
  for (auto& b : kv_) b = HostBuffer<float>(block, mem);
  for (auto& b : grad_) b = HostBuffer<float>(block, mem);
  contrib_ = HostBuffer<float>(block, mem);
  const auto rows = static_cast<std::size_t>(g_.batch * max_range);
  o_tmp_ = HostBuffer<float>(rows * static_cast<std::size_t>(g_.q_width()), mem);
  lse_tmp_ = HostBuffer<float>(rows * static_cast<std::size_t>(g_.heads_q), mem);
  dq_tmp_ = HostBuffer<float>(rows * static_cast<std::size_t>(g_.q_width()), mem);
  dk_tmp_ = HostBuffer<float>(rows * static_cast<std::size_t>(g_.kv_width()), mem);
  dv_tmp_ = HostBuffer<float>(rows * static_cast<std::size_t>(g_.kv_width()), mem);
}

void HostRingLanes::forward(const RingPlan& plan, comm::DeviceComm& comm, const float* q, const float* k,
                            const float* v, float* o, float* lse) {
  const std::int64_t n = total_tokens(members_[me_]);
  std::fill(o, o + g_.batch * n * g_.q_width(), 0.0f);
  std::fill(lse, lse + g_.batch * n * g_.heads_q, -std::numeric_limits<float>::infinity());
  q_ = q, k_ = k, v_ = v, o_ = o, lse_ = lse;
  marks_.assign(static_cast<std::size_t>(plan.ring_size), {});
  t0_ = std::chrono::steady_clock::now();
  run_ring_plan(plan, comm, *this);
}

void HostRingLanes::backward(const RingPlan& plan, comm::DeviceComm& comm, const float* q, const float* k,
                             const float* v, const float* o, const float* lse, const float* dout, float* dq,
                             float* dk, float* dv) {
  const std::int64_t n = total_tokens(members_[me_]);
  std::fill(dq, dq + g_.batch * n * g_.q_width(), 0.0f);
  q_ = q, k_ = k, v_ = v, o_in_ = o, lse_in_ = lse, dout_ = dout, dq_ = dq, dk_ = dk, dv_ = dv;
  marks_.assign(static_cast<std::size_t>(plan.ring_size), {});
  t0_ = std::chrono::steady_clock::now();
  run_ring_plan(plan, comm, *this);
}

void HostRingLanes::mark(int step, Mark m) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  StepMarks& at = marks_.at(static_cast<std::size_t>(step));
  if (m == Mark::wait_begin) at.wait_begin = s;
  if (m == Mark::compute_begin) at.compute_begin = s;
  if (m == Mark::compute_end) at.compute_end = s;
}

void* HostRingLanes::buffer(Family f, int index) {
  if (f == Family::contrib) return contrib_.data();
  return (f == Family::kv ? kv_ : grad_)[index].data();
}

void HostRingLanes::work(const PlanOp& op) {
  const std::int64_t own = kv_elems_[me_], n_kv = kv_elems_[op.owner];
  float* buf = static_cast<float*>(buffer(op.family, op.buffer));
  const std::int64_t qw = g_.q_width(), kw = g_.kv_width(), B = g_.batch;
  switch (op.kind) {
    case OpKind::load_own:
      std::copy(k_, k_ + own, buf);
      std::copy(v_, v_ + own, buf + own);
      break;
    case OpKind::zero_grad: std::fill(buf, buf + 2 * own, 0.0f); break;
    case OpKind::attend_fwd:
      pairs_[op.owner].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
        kernel_.forward(t, q_ + B * qoff * qw, buf + B * koff * kw, buf + n_kv + B * koff * kw, o_tmp_.data(),
                        lse_tmp_.data());
        merge_partial(o_ + B * qoff * qw, lse_ + B * qoff * g_.heads_q, o_tmp_.data(), lse_tmp_.data(), B,
                      t.nq, g_.heads_q, g_.head_dim);
      });
      break;
    case OpKind::attend_bwd: {
      float* contrib = contrib_.data();
      std::fill(contrib, contrib + 2 * n_kv, 0.0f);
      pairs_[op.owner].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
        const std::int64_t qo = B * qoff * qw, ko = B * koff * kw;
        kernel_.backward(t, q_ + qo, buf + ko, buf + n_kv + ko, o_in_ + qo, lse_in_ + B * qoff * g_.heads_q,
                         dout_ + qo, dq_tmp_.data(), dk_tmp_.data(), dv_tmp_.data());
        add_into(dq_ + qo, dq_tmp_.data(), B * t.nq * qw);
        add_into(contrib + ko, dk_tmp_.data(), B * t.nk * kw);
        add_into(contrib + n_kv + ko, dv_tmp_.data(), B * t.nk * kw);
      });
      break;
    }
    case OpKind::accumulate: add_into(buf, contrib_.data(), 2 * n_kv); break;
    case OpKind::store_grad:
      std::copy(buf, buf + own, dk_);
      std::copy(buf + own, buf + 2 * own, dv_);
      break;
    default: throw std::logic_error("HostRingLanes: not a lane op");
  }
}

}  // namespace attnbench::cp
