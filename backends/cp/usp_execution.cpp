// The Ulysses × ring execution: sharding, head all-to-alls, the ring engine, gathering.
#include "backends/cp/usp_execution.hpp"

#include <fmt/format.h>

#include <chrono>

#include "harness/comm/world.hpp"

namespace attnbench::cp {

namespace {

struct HeadSpan {
  std::int64_t begin = 0, count = 0;
};

// Where one member's piece of a slot range lies: in the slot layout and in the member's own.
struct Piece {
  std::size_t range = 0;      // index into the slot's ranges
  std::int64_t in_range = 0;  // token offset inside that range
  std::int64_t size = 0;
  std::int64_t local = 0;     // token offset in the member's chunk-major layout
};

class UspExecution final : public CpExecution {
 public:
  UspExecution(const Problem& p, const ChunkKernel& kernel, const Inputs& in, Resources& res,
               const UspConfig& cfg)
      : CpExecution(p, *res.comm), kernel_(kernel), in_(in), mem_(*res.host), cfg_(cfg) {
    const int P = comm_.size(), u = cfg.ulysses_degree;
    slots_ = P / u;
    window_ = cfg.window > 0 ? cfg.window : slots_;
    slot_ = comm_.rank() / u;
    member_ = comm_.rank() % u;
    const auto& s = p.shape;
    B_ = s.batch;
    Hq_ = s.heads_q;
    Hkv_ = s.heads_kv;
    D_ = s.head_dim;
    S_ = s.seqlen_q;

    const Balance balance = cfg.options.balance_area ? Balance::area : cfg.token_balance;
    slot_ranges_ = assign(*p.mask, S_, slots_, balance, cfg.options.chunks_per_rank);
    layout_note_ = balance == Balance::area
                       ? fmt::format("area({}/slot)", cfg.options.chunks_per_rank)
                       : balance == Balance::zigzag ? "zigzag" : "contiguous";
    if (u > 1) layout_note_ += fmt::format(" ulysses={}", u);
    if (window_ < slots_) layout_note_ += fmt::format(" window={}", window_);
    rank_ranges_.resize(static_cast<std::size_t>(P));
    for (int sl = 0; sl < slots_; ++sl) {
      auto pieces = split_members(slot_ranges_[sl], u);
      for (int m = 0; m < u; ++m) rank_ranges_[sl * u + m] = pieces[m];
    }
    for (int r = 0; r < P; ++r)
      rank_areas_.push_back(static_cast<double>(rows_area(*p.mask, slot_ranges_[r / u])) / u);
    for (int m = 0; m < u; ++m) pieces_.push_back(pieces_of(m));

    for (int m = 0; m < u; ++m) {
      q_heads_.push_back({m * (Hq_ / u), Hq_ / u});
      if (Hkv_ % u == 0)
        kv_heads_.push_back({m * (Hkv_ / u), Hkv_ / u});
      else  // u is a multiple of Hkv: KV heads are replicated across members
        kv_heads_.push_back({m / (u / Hkv_), 1});
    }

    // Local (sequence-sharded) tensors.
    const Ranges& mine = rank_ranges_[comm_.rank()];
    n_local_ = total_tokens(mine);
    const bool bwd = pass_has_backward(p.pass);
    auto buf = [&](std::int64_t n) { return HostBuffer<float>(static_cast<std::size_t>(n), mem_); };
    q_ = buf(B_ * n_local_ * Hq_ * D_);
    k_ = buf(B_ * n_local_ * Hkv_ * D_);
    v_ = buf(B_ * n_local_ * Hkv_ * D_);
    o_ = buf(B_ * n_local_ * Hq_ * D_);
    lse_ = buf(B_ * n_local_ * Hq_);
    extract(in.q.data(), B_, S_, Hq_ * D_, mine, q_.data());
    extract(in.k.data(), B_, S_, Hkv_ * D_, mine, k_.data());
    extract(in.v.data(), B_, S_, Hkv_ * D_, mine, v_.data());
    if (bwd) {
      dout_ = buf(B_ * n_local_ * Hq_ * D_);
      dq_ = buf(B_ * n_local_ * Hq_ * D_);
      dk_ = buf(B_ * n_local_ * Hkv_ * D_);
      dv_ = buf(B_ * n_local_ * Hkv_ * D_);
      extract(in.dout.data(), B_, S_, Hq_ * D_, mine, dout_.data());
    }

    // Head-sharded tensors over the slot's tokens (the local ones when u = 1).
    n_slot_ = total_tokens(slot_ranges_[slot_]);
    hq_ = q_heads_[member_].count;
    hkv_ = kv_heads_[member_].count;
    if (u > 1) {
      qh_ = buf(B_ * n_slot_ * hq_ * D_);
      kh_ = buf(B_ * n_slot_ * hkv_ * D_);
      vh_ = buf(B_ * n_slot_ * hkv_ * D_);
      oh_ = buf(B_ * n_slot_ * hq_ * D_);
      lseh_ = buf(B_ * n_slot_ * hq_);
      if (bwd) {
        douth_ = buf(B_ * n_slot_ * hq_ * D_);
        dqh_ = buf(B_ * n_slot_ * hq_ * D_);
        dkh_ = buf(B_ * n_slot_ * hkv_ * D_);
        dvh_ = buf(B_ * n_slot_ * hkv_ * D_);
      }
      std::int64_t scratch = 0;
      for (int m = 0; m < u; ++m)
        scratch = std::max(scratch, B_ * n_slot_ * std::max(Hq_, Hkv_) * D_);
      send_ = buf(scratch);
      recv_ = buf(scratch);
    }
    Geometry g;
    g.batch = B_;
    g.heads_q = hq_;
    g.heads_kv = hkv_;
    g.head_dim = D_;
    g.softmax_scale = p.softmax_scale;
    g.dtype = p.dtype;
    g.mask = p.mask.get();
    engine_ = std::make_unique<RingEngine>(slot_, window_, slot_ranges_, g, kernel_, mem_, bwd);
  }

  void setup() override {
    ulysses_ = comm_.split(slot_, member_);
    ring_ = comm_.split(member_, slot_);
    engine_->setup(*ring_);
    if (p_.pass == Pass::bwd) {  // the backward is timed alone: its forward runs here
      ComputeClock clock;
      forward(clock);
    }
  }

  void fetch_outputs(Outputs& out) override {
    if (pass_has_forward(p_.pass)) {
      gather(o_.data(), B_, Hq_ * D_, rank_ranges_, out.o);
      gather(lse_.data(), B_ * Hq_, 1, rank_ranges_, out.lse);
    }
    if (pass_has_backward(p_.pass)) {
      gather(dq_.data(), B_, Hq_ * D_, rank_ranges_, out.dq);
      gather(dk_.data(), B_, Hkv_ * D_, rank_ranges_, out.dk);
      gather(dv_.data(), B_, Hkv_ * D_, rank_ranges_, out.dv);
    }
  }

 protected:
  void iterate(ComputeClock& clock) override {
    if (pass_has_forward(p_.pass)) forward(clock);
    if (pass_has_backward(p_.pass)) backward(clock);
  }

 private:
  bool ulysses() const { return cfg_.ulysses_degree > 1; }
  float* head(HostBuffer<float>& h, HostBuffer<float>& local) { return ulysses() ? h.data() : local.data(); }

  void forward(ComputeClock& clock) {
    if (ulysses()) {
      to_heads(q_.data(), Hq_, q_heads_, qh_.data());
      to_heads(k_.data(), Hkv_, kv_heads_, kh_.data());
      to_heads(v_.data(), Hkv_, kv_heads_, vh_.data());
    }
    engine_->forward(head(qh_, q_), head(kh_, k_), head(vh_, v_), head(oh_, o_), head(lseh_, lse_), clock);
    if (ulysses()) {
      to_sequence(oh_.data(), Hq_, q_heads_, o_.data(), false);
      lse_to_sequence();
    }
  }

  void backward(ComputeClock& clock) {
    if (ulysses()) to_heads(dout_.data(), Hq_, q_heads_, douth_.data());
    engine_->backward(head(qh_, q_), head(kh_, k_), head(vh_, v_), head(oh_, o_), head(lseh_, lse_),
                      head(douth_, dout_), head(dqh_, dq_), head(dkh_, dk_), head(dvh_, dv_), clock);
    if (ulysses()) {
      to_sequence(dqh_.data(), Hq_, q_heads_, dq_.data(), false);
      // Replicated KV heads get one gradient per replica: they add up.
      std::fill(dk_.data(), dk_.data() + dk_.size(), 0.0f);
      std::fill(dv_.data(), dv_.data() + dv_.size(), 0.0f);
      to_sequence(dkh_.data(), Hkv_, kv_heads_, dk_.data(), true);
      to_sequence(dvh_.data(), Hkv_, kv_heads_, dv_.data(), true);
    }
  }

  std::vector<Piece> pieces_of(int m) const {
    std::vector<Piece> out;
    const Ranges& slot = slot_ranges_[slot_];
    const int u = cfg_.ulysses_degree;
    std::int64_t local = 0;
    for (std::size_t r = 0; r < slot.size(); ++r) {
      const std::int64_t n = slot[r].size();
      const std::int64_t a = n * m / u, b = n * (m + 1) / u;
      if (b > a) {
        out.push_back({r, a, b - a, local});
        local += b - a;
      }
    }
    return out;
  }
  std::int64_t slot_offset(std::size_t range) const {
    std::int64_t off = 0;
    for (std::size_t r = 0; r < range; ++r) off += slot_ranges_[slot_][r].size();
    return off;
  }
  std::int64_t member_tokens(int m) const { return total_tokens(rank_ranges_[slot_ * cfg_.ulysses_degree + m]); }

  // Sequence shard [B, n_local, H, D] of every member -> this member's heads over the slot's tokens.
  void to_heads(const float* local, std::int64_t H, const std::vector<HeadSpan>& heads, float* out) {
    const int u = cfg_.ulysses_degree;
    std::vector<std::int64_t> sc(u), rc(u);
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      sc[j] = B_ * n_local_ * heads[j].count * D_;
      copy_rows(local, B_ * n_local_, H, heads[j].begin, s, heads[j].count, 0, heads[j].count, D_);
      s += sc[j];
    }
    const std::int64_t hc = heads[member_].count;
    for (int j = 0; j < u; ++j) rc[j] = B_ * member_tokens(j) * hc * D_;
    ulysses_->alltoallv(send_.data(), sc, recv_.data(), rc);
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      for (const Piece& pc : pieces_[j]) {
        const std::int64_t n = slot_ranges_[slot_][pc.range].size();
        copy_rows(r + B_ * pc.local * hc * D_, B_, pc.size, 0, out + B_ * slot_offset(pc.range) * hc * D_,
                  n, pc.in_range, pc.size, hc * D_);
      }
      r += rc[j];
    }
  }

  // This member's heads over the slot's tokens -> sequence shards of every member (adds when `add`).
  void to_sequence(const float* in, std::int64_t H, const std::vector<HeadSpan>& heads, float* local, bool add) {
    const int u = cfg_.ulysses_degree;
    const std::int64_t hc = heads[member_].count;
    std::vector<std::int64_t> sc(u), rc(u);
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      sc[j] = B_ * member_tokens(j) * hc * D_;
      for (const Piece& pc : pieces_[j]) {
        const std::int64_t n = slot_ranges_[slot_][pc.range].size();
        copy_rows(in + B_ * slot_offset(pc.range) * hc * D_, B_, n, pc.in_range, s + B_ * pc.local * hc * D_,
                  pc.size, 0, pc.size, hc * D_);
      }
      s += sc[j];
    }
    for (int j = 0; j < u; ++j) rc[j] = B_ * n_local_ * heads[j].count * D_;
    ulysses_->alltoallv(send_.data(), sc, recv_.data(), rc);
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      copy_rows(r, B_ * n_local_, heads[j].count, 0, local, H, heads[j].begin, heads[j].count, D_, add);
      r += rc[j];
    }
  }

  void lse_to_sequence() {
    const int u = cfg_.ulysses_degree;
    std::vector<std::int64_t> sc(u), rc(u);
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      sc[j] = B_ * hq_ * member_tokens(j);
      for (const Piece& pc : pieces_[j]) {
        const std::int64_t n = slot_ranges_[slot_][pc.range].size();
        copy_rows(lseh_.data() + B_ * hq_ * slot_offset(pc.range), B_ * hq_, n, pc.in_range,
                  s + B_ * hq_ * pc.local, pc.size, 0, pc.size, 1);
      }
      s += sc[j];
    }
    for (int j = 0; j < u; ++j) rc[j] = B_ * q_heads_[j].count * n_local_;
    ulysses_->alltoallv(send_.data(), sc, recv_.data(), rc);
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      const std::int64_t hj = q_heads_[j].count;
      for (const Piece& pc : pieces_[member_])
        copy_rows(r + B_ * hj * pc.local, B_, hj, 0, lse_.data() + B_ * Hq_ * pc.local, Hq_,
                  q_heads_[j].begin, hj, pc.size);
      r += rc[j];
    }
  }

  const ChunkKernel& kernel_;
  const Inputs& in_;
  MemoryTracker& mem_;
  UspConfig cfg_;
  int slots_ = 1, window_ = 1, slot_ = 0, member_ = 0;
  std::int64_t B_ = 1, Hq_ = 1, Hkv_ = 1, D_ = 0, S_ = 0, n_local_ = 0, n_slot_ = 0, hq_ = 1, hkv_ = 1;
  std::vector<Ranges> slot_ranges_, rank_ranges_;
  std::vector<std::vector<Piece>> pieces_;
  std::vector<HeadSpan> q_heads_, kv_heads_;
  HostBuffer<float> q_, k_, v_, o_, lse_, dout_, dq_, dk_, dv_;
  HostBuffer<float> qh_, kh_, vh_, oh_, lseh_, douth_, dqh_, dkh_, dvh_, send_, recv_;
  std::unique_ptr<Communicator> ulysses_, ring_;
  std::unique_ptr<RingEngine> engine_;
};

}  // namespace

std::unique_ptr<CpExecution> make_usp_execution(const Problem& p, const ChunkKernel& kernel,
                                                const Inputs& in, Resources& res, const UspConfig& cfg) {
  return std::make_unique<UspExecution>(p, kernel, in, res, cfg);
}

}  // namespace attnbench::cp
