// The two-level ring: K/V rotation with overlapped receives, LSE merges, travelling dK/dV accumulators.
#include "backends/cp/ring_engine.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "backends/cp/merge.hpp"

namespace attnbench::cp {

namespace {

enum Tag : int { tag_kv_inner = 11, tag_kv_outer = 12, tag_dkv_inner = 13, tag_dkv_outer = 14 };

}  // namespace

RingEngine::RingEngine(int ring_rank, int window, std::vector<Ranges> members, Geometry g,
                       const ChunkKernel& kernel, MemoryTracker& mem, bool backward)
    : window_(window), members_(std::move(members)), g_(g), kernel_(kernel) {
  const int P = static_cast<int>(members_.size());
  if (window < 1 || P % window != 0)
    throw std::logic_error("RingEngine: the window must divide the ring size");
  outer_size_ = P / window;
  me_ = ring_rank;
  inner_ = me_ % window;
  outer_ = me_ / window;

  std::int64_t max_tokens = 0, max_range = 0;
  for (const auto& m : members_) {
    max_tokens = std::max(max_tokens, total_tokens(m));
    for (const auto& r : m) max_range = std::max(max_range, r.size());
  }
  const auto kv_block = static_cast<std::size_t>(2 * g_.batch * max_tokens * g_.kv_width());
  for (auto& b : kv_) b = HostBuffer<float>(kv_block, mem);
  if (backward)
    for (auto& b : dkv_) b = HostBuffer<float>(kv_block, mem);
  const auto q_rows = static_cast<std::size_t>(g_.batch * max_range);
  o_tmp_ = HostBuffer<float>(q_rows * static_cast<std::size_t>(g_.q_width()), mem);
  lse_tmp_ = HostBuffer<float>(q_rows * static_cast<std::size_t>(g_.heads_q), mem);
  if (backward) {
    dq_tmp_ = HostBuffer<float>(q_rows * static_cast<std::size_t>(g_.q_width()), mem);
    dk_tmp_ = HostBuffer<float>(q_rows * static_cast<std::size_t>(g_.kv_width()), mem);
    dv_tmp_ = HostBuffer<float>(q_rows * static_cast<std::size_t>(g_.kv_width()), mem);
  }

  task_.mask = g_.mask;
  task_.batch = g_.batch;
  task_.heads_q = g_.heads_q;
  task_.heads_kv = g_.heads_kv;
  task_.head_dim = g_.head_dim;
  task_.softmax_scale = g_.softmax_scale;
  task_.dtype = g_.dtype;
  // Which chunk pairs the mask leaves empty, and the block sizes, are fixed by the plan: decide once.
  for (const Ranges& theirs : members_) {
    pairs_.emplace_back(*g_.mask, members_[me_], theirs);
    kv_elems_.push_back(g_.batch * total_tokens(theirs) * g_.kv_width());
  }
}

void RingEngine::setup(Communicator& ring) {
  if (ring.size() != static_cast<int>(members_.size()) || ring.rank() != me_)
    throw std::logic_error("RingEngine: communicator does not match the members");
  // Inner ring: same window (outer index); outer ring: same inner index.
  auto inner = ring.split(outer_, inner_);
  auto outer = ring.split(inner_, outer_);
  inner_kv_ = inner->dup();
  inner_grad_ = inner->dup();
  outer_kv_ = outer->dup();
  outer_grad_ = outer->dup();
}

float* RingEngine::load_own_block(const float* k, const float* v) {
  float* block = kv_[0].data();
  const std::int64_t own = kv_elems(me_);
  std::copy(k, k + own, block);
  std::copy(v, v + own, block + own);
  return block;
}

CommRequestPtr RingEngine::pass_inner(Communicator& c, const float* send, int owner, float* recv, int next,
                                      int tag) const {
  const int W = window_;
  return c.exchange(send, block_bytes(owner), (inner_ + 1) % W, recv, block_bytes(next), (inner_ - 1 + W) % W,
                    tag);
}

CommRequestPtr RingEngine::pass_outer(Communicator& c, const float* send, float* recv, int owner_outer,
                                      int tag) const {
  const int G = outer_size_;
  return c.exchange(send, block_bytes(member(owner_outer, inner_)), (outer_ + 1) % G, recv,
                    block_bytes(member((owner_outer - 1 + G) % G, inner_)), (outer_ - 1 + G) % G, tag);
}

void RingEngine::attend_forward(int owner, const float* kv, const float* q, float* o, float* lse,
                                ComputeClock& clock) {
  ComputeTimer timer(clock);
  const float* k = kv;
  const float* v = kv + kv_elems(owner);
  pairs_[owner].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
    kernel_.forward(t, q + g_.batch * qoff * g_.q_width(), k + g_.batch * koff * g_.kv_width(),
                    v + g_.batch * koff * g_.kv_width(), o_tmp_.data(), lse_tmp_.data());
    merge_partial(o + g_.batch * qoff * g_.q_width(), lse + g_.batch * qoff * g_.heads_q, o_tmp_.data(),
                  lse_tmp_.data(), g_.batch, t.nq, g_.heads_q, g_.head_dim);
  });
}

void RingEngine::attend_backward(int owner, const float* kv, const float* q, const float* o, const float* lse,
                                 const float* dout, float* dq, float* contrib, ComputeClock& clock) {
  ComputeTimer timer(clock);
  const std::int64_t n_kv = kv_elems(owner);
  const float* k = kv;
  const float* v = kv + n_kv;
  std::fill(contrib, contrib + 2 * n_kv, 0.0f);
  pairs_[owner].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
    const std::int64_t qo = g_.batch * qoff * g_.q_width(), ko = g_.batch * koff * g_.kv_width();
    kernel_.backward(t, q + qo, k + ko, v + ko, o + qo, lse + g_.batch * qoff * g_.heads_q, dout + qo,
                     dq_tmp_.data(), dk_tmp_.data(), dv_tmp_.data());
    add_into(dq + qo, dq_tmp_.data(), g_.batch * t.nq * g_.q_width());
    add_into(contrib + ko, dk_tmp_.data(), g_.batch * t.nk * g_.kv_width());
    add_into(contrib + n_kv + ko, dv_tmp_.data(), g_.batch * t.nk * g_.kv_width());
  });
}

void RingEngine::forward(const float* q, const float* k, const float* v, float* o, float* lse,
                         ComputeClock& clock) {
  const std::int64_t n_local = total_tokens(members_[me_]);
  std::fill(o, o + g_.batch * n_local * g_.q_width(), 0.0f);
  std::fill(lse, lse + g_.batch * n_local * g_.heads_q, -std::numeric_limits<float>::infinity());
  float* outer_cur = load_own_block(k, v);
  float* outer_next = kv_[1].data();
  const int W = window_, G = outer_size_;

  for (int step = 0; step < G; ++step) {
    const int owner_outer = (outer_ - step + G) % G;
    CommRequestPtr outer_req;
    if (step < G - 1) outer_req = pass_outer(*outer_kv_, outer_cur, outer_next, owner_outer, tag_kv_outer);
    for (int t = 0; t < W; ++t) {
      const int owner = member(owner_outer, (inner_ - t + W) % W);
      float* cur = t == 0 ? outer_cur : kv_[2 + t % 2].data();
      CommRequestPtr inner_req;
      if (t < W - 1) {
        const int next_owner = member(owner_outer, (inner_ - t - 1 + W) % W);
        inner_req = pass_inner(*inner_kv_, cur, owner, kv_[2 + (t + 1) % 2].data(), next_owner, tag_kv_inner);
      }
      attend_forward(owner, cur, q, o, lse, clock);
      if (inner_req) inner_req->wait();
    }
    if (outer_req) {
      outer_req->wait();
      std::swap(outer_cur, outer_next);
    }
  }
}

void RingEngine::backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                          const float* dout, float* dq, float* dk, float* dv, ComputeClock& clock) {
  const std::int64_t n_local = total_tokens(members_[me_]);
  std::fill(dq, dq + g_.batch * n_local * g_.q_width(), 0.0f);
  float* outer_cur = load_own_block(k, v);
  float* outer_next = kv_[1].data();
  const std::int64_t own = kv_elems(me_);
  float* contrib = dkv_[0].data();
  float* outer_dkv = dkv_[3].data();
  std::fill(outer_dkv, outer_dkv + 2 * own, 0.0f);  // our own block starts with nothing
  const int W = window_, G = outer_size_;

  CommRequestPtr outer_dkv_req;  // the accumulator arriving for the next window's first block
  for (int step = 0; step < G; ++step) {
    const int owner_outer = (outer_ - step + G) % G;
    CommRequestPtr outer_req;
    if (step < G - 1) outer_req = pass_outer(*outer_kv_, outer_cur, outer_next, owner_outer, tag_kv_outer);
    float* acc = outer_dkv;
    CommRequestPtr acc_req = std::move(outer_dkv_req);
    for (int t = 0; t < W; ++t) {
      const int owner = member(owner_outer, (inner_ - t + W) % W);
      const int next_owner = member(owner_outer, (inner_ - t - 1 + W) % W);
      float* cur = t == 0 ? outer_cur : kv_[2 + t % 2].data();
      CommRequestPtr inner_req;
      if (t < W - 1)
        inner_req = pass_inner(*inner_kv_, cur, owner, kv_[2 + (t + 1) % 2].data(), next_owner, tag_kv_inner);
      attend_backward(owner, cur, q, o, lse, dout, dq, contrib, clock);
      if (acc_req) acc_req->wait();  // the block's accumulator, sent by the previous holder
      {
        ComputeTimer timer(clock);
        add_into(acc, contrib, 2 * kv_elems(owner));
      }
      // Pass it on; after `window` passes each accumulator is back with its window's holder.
      float* into = dkv_[1 + (t + 1) % 2].data();
      acc_req = pass_inner(*inner_grad_, acc, owner, into, next_owner, tag_dkv_inner);
      acc = into;
      if (inner_req) inner_req->wait();
    }
    acc_req->wait();
    // Our window is done with this block: it moves on to the next window (the
    // last move brings every block's dK/dV home).
    outer_dkv_req = pass_outer(*outer_grad_, acc, outer_dkv, owner_outer, tag_dkv_outer);
    if (outer_req) {
      outer_req->wait();
      std::swap(outer_cur, outer_next);
    }
  }
  outer_dkv_req->wait();
  std::copy(outer_dkv, outer_dkv + own, dk);
  std::copy(outer_dkv + own, outer_dkv + 2 * own, dv);
}

}  // namespace attnbench::cp
