// The Ulysses × ring execution: sharding, head all-to-alls, the ring engine, gathering.
#include "backends/cp/usp_execution.hpp"

#include <fmt/format.h>

#include "harness/comm/world.hpp"

namespace attnbench::cp {

namespace {

struct HeadSpan {
  std::int64_t begin = 0, count = 0;
};

// Where one member's piece of a slot range lies: in the slot layout and in the member's own.
struct Piece {
  std::int64_t slot = 0;        // token offset of its range in the slot's chunk-major layout
  std::int64_t range_size = 0;  // tokens of that range
  std::int64_t in_range = 0;    // token offset inside that range
  std::int64_t size = 0;
  std::int64_t local = 0;  // token offset in the member's chunk-major layout
};

// A tensor's heads split over the members, with the floats per member of its
// all-to-alls (fixed by the plan): seq[j], member j's heads over our own tokens;
// head[j], our heads over member j's tokens.
struct HeadSplit {
  std::vector<HeadSpan> spans;
  std::vector<std::int64_t> seq, head;
};

class UspExecution final : public CpExecution {
 public:
  UspExecution(const Problem& p, const ChunkKernel& kernel, const Inputs& in, Resources& res,
               const UspConfig& cfg)
      : CpExecution(p, *res.comm), cfg_(cfg) {
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
    const std::int64_t S = s.seqlen_q;

    const Balance balance = cfg.options.balance_area ? Balance::area : cfg.token_balance;
    slot_ranges_ = assign(*p.mask, S, slots_, balance, cfg.options.chunks_per_rank);
    layout_note_ = balance == Balance::area     ? fmt::format("area({}/slot)", cfg.options.chunks_per_rank)
                   : balance == Balance::zigzag ? "zigzag"
                                                : "contiguous";
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

    std::vector<HeadSpan> q_heads, kv_heads;
    for (int m = 0; m < u; ++m) {
      q_heads.push_back({m * (Hq_ / u), Hq_ / u});
      if (Hkv_ % u == 0)
        kv_heads.push_back({m * (Hkv_ / u), Hkv_ / u});
      else  // u is a multiple of Hkv: KV heads are replicated across members
        kv_heads.push_back({m / (u / Hkv_), 1});
    }

    // Local (sequence-sharded) tensors.
    const Ranges& mine = rank_ranges_[comm_.rank()];
    n_local_ = total_tokens(mine);
    q_split_ = head_split(q_heads, D_);
    kv_split_ = head_split(kv_heads, D_);
    lse_split_ = head_split(q_heads, 1);
    const bool bwd = pass_has_backward(p.pass);
    MemoryTracker& mem = *res.host;
    auto buf = [&](std::int64_t n) { return HostBuffer<float>(static_cast<std::size_t>(n), mem); };
    q_ = buf(B_ * n_local_ * Hq_ * D_);
    k_ = buf(B_ * n_local_ * Hkv_ * D_);
    v_ = buf(B_ * n_local_ * Hkv_ * D_);
    o_ = buf(B_ * n_local_ * Hq_ * D_);
    lse_ = buf(B_ * n_local_ * Hq_);
    extract(in.q.data(), B_, S, Hq_ * D_, mine, q_.data());
    extract(in.k.data(), B_, S, Hkv_ * D_, mine, k_.data());
    extract(in.v.data(), B_, S, Hkv_ * D_, mine, v_.data());
    if (bwd) {
      dout_ = buf(B_ * n_local_ * Hq_ * D_);
      dq_ = buf(B_ * n_local_ * Hq_ * D_);
      dk_ = buf(B_ * n_local_ * Hkv_ * D_);
      dv_ = buf(B_ * n_local_ * Hkv_ * D_);
      extract(in.dout.data(), B_, S, Hq_ * D_, mine, dout_.data());
    }

    // Head-sharded tensors over the slot's tokens (the local ones when u = 1).
    const std::int64_t n_slot = total_tokens(slot_ranges_[slot_]);
    hq_ = q_heads[member_].count;
    hkv_ = kv_heads[member_].count;
    if (u > 1) {
      qh_ = buf(B_ * n_slot * hq_ * D_);
      kh_ = buf(B_ * n_slot * hkv_ * D_);
      vh_ = buf(B_ * n_slot * hkv_ * D_);
      oh_ = buf(B_ * n_slot * hq_ * D_);
      lseh_ = buf(B_ * n_slot * hq_);
      if (bwd) {
        douth_ = buf(B_ * n_slot * hq_ * D_);
        dqh_ = buf(B_ * n_slot * hq_ * D_);
        dkh_ = buf(B_ * n_slot * hkv_ * D_);
        dvh_ = buf(B_ * n_slot * hkv_ * D_);
      }
      // Either side of an all-to-all holds at most all heads of the slot's tokens.
      const std::int64_t scratch = B_ * n_slot * std::max(Hq_, Hkv_) * D_;
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
    engine_ = std::make_unique<RingEngine>(slot_, window_, slot_ranges_, g, kernel, mem, bwd);
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
    gather_outputs(rank_ranges_, o_.data(), lse_.data(), dq_.data(), dk_.data(), dv_.data(), out);
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
      to_heads(q_.data(), Hq_, q_split_, qh_.data());
      to_heads(k_.data(), Hkv_, kv_split_, kh_.data());
      to_heads(v_.data(), Hkv_, kv_split_, vh_.data());
    }
    engine_->forward(head(qh_, q_), head(kh_, k_), head(vh_, v_), head(oh_, o_), head(lseh_, lse_), clock);
    if (ulysses()) {
      to_sequence(oh_.data(), Hq_, q_split_, o_.data(), false);
      lse_to_sequence();
    }
  }

  void backward(ComputeClock& clock) {
    if (ulysses()) to_heads(dout_.data(), Hq_, q_split_, douth_.data());
    engine_->backward(head(qh_, q_), head(kh_, k_), head(vh_, v_), head(oh_, o_), head(lseh_, lse_),
                      head(douth_, dout_), head(dqh_, dq_), head(dkh_, dk_), head(dvh_, dv_), clock);
    if (ulysses()) {
      to_sequence(dqh_.data(), Hq_, q_split_, dq_.data(), false);
      // Replicated KV heads get one gradient per replica: they add up.
      std::fill(dk_.data(), dk_.data() + dk_.size(), 0.0f);
      std::fill(dv_.data(), dv_.data() + dv_.size(), 0.0f);
      to_sequence(dkh_.data(), Hkv_, kv_split_, dk_.data(), true);
      to_sequence(dvh_.data(), Hkv_, kv_split_, dv_.data(), true);
    }
  }

  std::vector<Piece> pieces_of(int m) const {
    std::vector<Piece> out;
    const int u = cfg_.ulysses_degree;
    std::int64_t local = 0, slot = 0;
    for (const Range& range : slot_ranges_[slot_]) {
      const std::int64_t n = range.size();
      const std::int64_t a = n * m / u, b = n * (m + 1) / u;
      if (b > a) {
        out.push_back({slot, n, a, b - a, local});
        local += b - a;
      }
      slot += n;
    }
    return out;
  }
  // `width` floats per head and token.
  HeadSplit head_split(std::vector<HeadSpan> spans, std::int64_t width) const {
    const int u = cfg_.ulysses_degree;
    HeadSplit h;
    for (int j = 0; j < u; ++j) {
      h.seq.push_back(B_ * n_local_ * spans[j].count * width);
      h.head.push_back(B_ * total_tokens(rank_ranges_[slot_ * u + j]) * spans[member_].count * width);
    }
    h.spans = std::move(spans);
    return h;
  }

  // Sequence shard [B, n_local, H, D] of every member -> this member's heads over the slot's tokens.
  void to_heads(const float* local, std::int64_t H, const HeadSplit& split, float* out) {
    const int u = cfg_.ulysses_degree;
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      const HeadSpan& hj = split.spans[j];
      copy_rows(local, B_ * n_local_, H, hj.begin, s, hj.count, 0, hj.count, D_);
      s += split.seq[j];
    }
    ulysses_->alltoallv(send_.data(), split.seq, recv_.data(), split.head);
    const std::int64_t hc = split.spans[member_].count;
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      for (const Piece& pc : pieces_[j])
        copy_rows(r + B_ * pc.local * hc * D_, B_, pc.size, 0, out + B_ * pc.slot * hc * D_, pc.range_size,
                  pc.in_range, pc.size, hc * D_);
      r += split.head[j];
    }
  }

  // This member's heads over the slot's tokens -> sequence shards of every member (adds when `add`).
  void to_sequence(const float* in, std::int64_t H, const HeadSplit& split, float* local, bool add) {
    const int u = cfg_.ulysses_degree;
    const std::int64_t hc = split.spans[member_].count;
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      for (const Piece& pc : pieces_[j])
        copy_rows(in + B_ * pc.slot * hc * D_, B_, pc.range_size, pc.in_range, s + B_ * pc.local * hc * D_,
                  pc.size, 0, pc.size, hc * D_);
      s += split.head[j];
    }
    ulysses_->alltoallv(send_.data(), split.head, recv_.data(), split.seq);
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      const HeadSpan& hj = split.spans[j];
      copy_rows(r, B_ * n_local_, hj.count, 0, local, H, hj.begin, hj.count, D_, add);
      r += split.seq[j];
    }
  }

  void lse_to_sequence() {
    const int u = cfg_.ulysses_degree;
    const HeadSplit& split = lse_split_;
    float* s = send_.data();
    for (int j = 0; j < u; ++j) {
      for (const Piece& pc : pieces_[j])
        copy_rows(lseh_.data() + B_ * hq_ * pc.slot, B_ * hq_, pc.range_size, pc.in_range,
                  s + B_ * hq_ * pc.local, pc.size, 0, pc.size, 1);
      s += split.head[j];
    }
    ulysses_->alltoallv(send_.data(), split.head, recv_.data(), split.seq);
    const float* r = recv_.data();
    for (int j = 0; j < u; ++j) {
      const HeadSpan& hj = split.spans[j];
      for (const Piece& pc : pieces_[member_])
        copy_rows(r + B_ * hj.count * pc.local, B_, hj.count, 0, lse_.data() + B_ * Hq_ * pc.local, Hq_,
                  hj.begin, hj.count, pc.size);
      r += split.seq[j];
    }
  }

  UspConfig cfg_;
  int slots_ = 1, window_ = 1, slot_ = 0, member_ = 0;
  std::int64_t B_ = 1, Hq_ = 1, Hkv_ = 1, D_ = 0, n_local_ = 0, hq_ = 1, hkv_ = 1;
  std::vector<Ranges> slot_ranges_, rank_ranges_;
  std::vector<std::vector<Piece>> pieces_;
  HeadSplit q_split_, kv_split_, lse_split_;  // lse_split_: the query heads, one float per head
  HostBuffer<float> q_, k_, v_, o_, lse_, dout_, dq_, dk_, dv_;
  HostBuffer<float> qh_, kh_, vh_, oh_, lseh_, douth_, dqh_, dkh_, dvh_, send_, recv_;
  std::unique_ptr<Communicator> ulysses_, ring_;
  std::unique_ptr<RingEngine> engine_;
};

}  // namespace

std::unique_ptr<CpExecution> make_usp_execution(const Problem& p, const ChunkKernel& kernel, const Inputs& in,
                                                Resources& res, const UspConfig& cfg) {
  return std::make_unique<UspExecution>(p, kernel, in, res, cfg);
}

}  // namespace attnbench::cp
