// allgather_kv: gather K/V once (overlapped with the local block), attend, reduce-scatter dK/dV.
#include "backends/cp/allgather_execution.hpp"

#include <fmt/format.h>

#include <limits>

#include "backends/cp/chunk_pairs.hpp"
#include "backends/cp/merge.hpp"

namespace attnbench::cp {

namespace {

class AllgatherExecution final : public CpExecution {
 public:
  AllgatherExecution(const Problem& p, const ChunkKernel& kernel, const Inputs& in, Resources& res,
                     const CpOptions& opt)
      : CpExecution(p, *res.comm), kernel_(kernel) {
    const int P = comm_.size();
    const auto& s = p.shape;
    B_ = s.batch;
    Hq_ = s.heads_q;
    Hkv_ = s.heads_kv;
    D_ = s.head_dim;
    const std::int64_t S = s.seqlen_q;
    ranks_ =
        assign(*p.mask, S, P, opt.balance_area ? Balance::area : Balance::contiguous, opt.chunks_per_rank);
    layout_note_ = opt.balance_area ? fmt::format("area({}/rank)", opt.chunks_per_rank) : "contiguous";
    for (const auto& r : ranks_) rank_areas_.push_back(static_cast<double>(rows_area(*p.mask, r)));
    const Ranges& mine = ranks_[comm_.rank()];
    const std::int64_t n_local = total_tokens(mine);
    MemoryTracker& mem = *res.host;
    auto buf = [&](std::int64_t n) { return HostBuffer<float>(static_cast<std::size_t>(n), mem); };
    std::int64_t max_range = 0;
    kv_counts_.resize(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) {
      kv_counts_[r] = B_ * total_tokens(ranks_[r]) * Hkv_ * D_;
      kv_offsets_.push_back(r == 0 ? 0 : kv_offsets_.back() + kv_counts_[r - 1]);
      dkv_counts_.push_back(2 * kv_counts_[r]);
      for (const auto& x : ranks_[r]) max_range = std::max(max_range, x.size());
    }
    const std::int64_t kv_all = B_ * S * Hkv_ * D_;
    q_ = buf(B_ * n_local * Hq_ * D_);
    k_ = buf(B_ * n_local * Hkv_ * D_);
    v_ = buf(B_ * n_local * Hkv_ * D_);
    o_ = buf(B_ * n_local * Hq_ * D_);
    lse_ = buf(B_ * n_local * Hq_);
    k_all_ = buf(kv_all);
    v_all_ = buf(kv_all);
    o_tmp_ = buf(B_ * max_range * Hq_ * D_);
    lse_tmp_ = buf(B_ * max_range * Hq_);
    extract(in.q.data(), B_, S, Hq_ * D_, mine, q_.data());
    extract(in.k.data(), B_, S, Hkv_ * D_, mine, k_.data());
    extract(in.v.data(), B_, S, Hkv_ * D_, mine, v_.data());
    if (pass_has_backward(p.pass)) {
      dout_ = buf(B_ * n_local * Hq_ * D_);
      dq_ = buf(B_ * n_local * Hq_ * D_);
      dkv_ = buf(2 * B_ * n_local * Hkv_ * D_);
      dkv_all_ = buf(2 * kv_all);
      dq_tmp_ = buf(B_ * max_range * Hq_ * D_);
      dk_tmp_ = buf(B_ * max_range * Hkv_ * D_);
      dv_tmp_ = buf(B_ * max_range * Hkv_ * D_);
      extract(in.dout.data(), B_, S, Hq_ * D_, mine, dout_.data());
    }
    for (int r = 0; r < P; ++r) pairs_.emplace_back(*p.mask, mine, ranks_[r]);
    task_.mask = p.mask.get();
    task_.batch = B_;
    task_.heads_q = Hq_;
    task_.heads_kv = Hkv_;
    task_.head_dim = D_;
    task_.softmax_scale = p.softmax_scale;
    task_.dtype = p.dtype;
  }

  void setup() override {
    if (p_.pass == Pass::bwd) {
      ComputeClock clock;
      forward(clock);
    }
  }

  void fetch_outputs(Outputs& out) override {
    const float* dv = dkv_.size() == 0 ? nullptr : dkv_.data() + dkv_.size() / 2;  // dkv_: [dK | dV]
    gather_outputs(ranks_, o_.data(), lse_.data(), dq_.data(), dkv_.data(), dv, out);
  }

 protected:
  void iterate(ComputeClock& clock) override {
    if (pass_has_forward(p_.pass)) forward(clock);
    if (pass_has_backward(p_.pass)) backward(clock);
  }

 private:
  void attend(int r, const float* k, const float* v, ComputeClock& clock) {
    ComputeTimer timer(clock);
    pairs_[r].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
      kernel_.forward(t, q_.data() + B_ * qoff * Hq_ * D_, k + B_ * koff * Hkv_ * D_,
                      v + B_ * koff * Hkv_ * D_, o_tmp_.data(), lse_tmp_.data());
      merge_partial(o_.data() + B_ * qoff * Hq_ * D_, lse_.data() + B_ * qoff * Hq_, o_tmp_.data(),
                    lse_tmp_.data(), B_, t.nq, Hq_, D_);
    });
  }

  void forward(ComputeClock& clock) {
    const int me = comm_.rank();
    std::fill(o_.data(), o_.data() + o_.size(), 0.0f);
    std::fill(lse_.data(), lse_.data() + lse_.size(), -std::numeric_limits<float>::infinity());
    auto rk = comm_.iallgatherv(k_.data(), kv_counts_[me], k_all_.data(), kv_counts_);
    auto rv = comm_.iallgatherv(v_.data(), kv_counts_[me], v_all_.data(), kv_counts_);
    attend(me, k_.data(), v_.data(), clock);  // our own block while the others arrive
    rk->wait();
    rv->wait();
    for (int r = 0; r < comm_.size(); ++r)
      if (r != me) attend(r, k_all_.data() + kv_offsets_[r], v_all_.data() + kv_offsets_[r], clock);
  }

  void backward(ComputeClock& clock) {
    std::fill(dq_.data(), dq_.data() + dq_.size(), 0.0f);
    {
      ComputeTimer timer(clock);
      std::fill(dkv_all_.data(), dkv_all_.data() + dkv_all_.size(), 0.0f);
      for (int r = 0; r < comm_.size(); ++r) {
        // Rank r's block of the reduce-scatter buffer is [dK_r | dV_r].
        float* dk_r = dkv_all_.data() + 2 * kv_offsets_[r];
        float* dv_r = dk_r + kv_counts_[r];
        const float* k = k_all_.data() + kv_offsets_[r];
        const float* v = v_all_.data() + kv_offsets_[r];
        pairs_[r].for_each(task_, [&](const ChunkTask& t, std::int64_t qoff, std::int64_t koff) {
          const std::int64_t qo = B_ * qoff * Hq_ * D_, ko = B_ * koff * Hkv_ * D_;
          kernel_.backward(t, q_.data() + qo, k + ko, v + ko, o_.data() + qo, lse_.data() + B_ * qoff * Hq_,
                           dout_.data() + qo, dq_tmp_.data(), dk_tmp_.data(), dv_tmp_.data());
          add_into(dq_.data() + qo, dq_tmp_.data(), B_ * t.nq * Hq_ * D_);
          add_into(dk_r + ko, dk_tmp_.data(), B_ * t.nk * Hkv_ * D_);
          add_into(dv_r + ko, dv_tmp_.data(), B_ * t.nk * Hkv_ * D_);
        });
      }
    }
    comm_.reduce_scatter(dkv_all_.data(), dkv_.data(), dkv_counts_);
  }

  const ChunkKernel& kernel_;
  std::int64_t B_ = 1, Hq_ = 1, Hkv_ = 1, D_ = 0;
  std::vector<Ranges> ranks_;
  std::vector<std::int64_t> kv_counts_, kv_offsets_;
  std::vector<std::int64_t> dkv_counts_;  // [rank]: its [dK | dV] block of the reduce-scatter
  std::vector<ChunkPairs> pairs_;         // [rank]: my ranges against that rank's
  ChunkTask task_;                        // the case's geometry; the pairs walk sets the ranges
  HostBuffer<float> q_, k_, v_, o_, lse_, k_all_, v_all_, o_tmp_, lse_tmp_;
  HostBuffer<float> dout_, dq_, dkv_, dkv_all_, dq_tmp_, dk_tmp_, dv_tmp_;
};

}  // namespace

std::unique_ptr<CpExecution> make_allgather_execution(const Problem& p, const ChunkKernel& kernel,
                                                      const Inputs& in, Resources& res,
                                                      const CpOptions& opt) {
  return std::make_unique<AllgatherExecution>(p, kernel, in, res, opt);
}

}  // namespace attnbench::cp
