// example.naive as a Backend: what it declares, what it refuses and why, and one prepared case.
#include <attnbench/backend.hpp>
#include <attnbench/memory.hpp>

#include <string>

#include "naive_backend.hpp"

namespace example {

namespace {

using namespace attnbench;

// Single-threaded O(area) work: beyond this many (pair x head x batch) score
// evaluations a case would take minutes, so the backend declines it with a reason.
constexpr double max_scores = 2.0e9;

class NaiveExecution final : public Execution {
 public:
  // Everything slow happens here, untimed: the output buffers (charged to the
  // case's memory budget) and, for a `bwd` pass, the forward it needs.
  NaiveExecution(const Problem& p, const Inputs& in, MemoryTracker& mem)
      : p_(p), in_(in), o_(p.shape.q_elems(), mem), lse_(p.shape.lse_elems(), mem) {
    if (pass_has_backward(p.pass)) {
      dq_ = HostBuffer<float>(p.shape.q_elems(), mem);
      dk_ = HostBuffer<float>(p.shape.kv_elems(), mem);
      dv_ = HostBuffer<float>(p.shape.kv_elems(), mem);
    }
    if (p.pass == Pass::bwd) forward();
  }

  // One timed iteration: exactly the work the pass names.
  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass))
      naive_backward(p_, in_.q.data(), in_.k.data(), in_.v.data(), o_.data(), lse_.data(), in_.dout.data(),
                     dq_.data(), dk_.data(), dv_.data());
  }

  // The runner compares these with cpu.reference (float64).
  void fetch_outputs(Outputs& out) override { copy_host_outputs(p_.pass, o_, lse_, dq_, dk_, dv_, out); }

 private:
  void forward() { naive_forward(p_, in_.q.data(), in_.k.data(), in_.v.data(), o_.data(), lse_.data()); }

  Problem p_;
  const Inputs& in_;  // owned by the runner, alive for the whole case
  HostBuffer<float> o_, lse_, dq_, dk_, dv_;
};

class NaiveBackend final : public Backend {
 public:
  BackendInfo info() const override {
    BackendInfo i;
    i.name = "example.naive";
    i.device = Device::cpu;
    i.description = "plugin example: plain fp32 loops over Mask::row_ranges, every mask, GQA";
    i.dtypes = {DType::fp32};
    // head_dims, masks left empty: any head dim, every mask of the library.
    i.passes = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
    i.gqa = true;
    return i;
  }

  // The lists of info() first (dtype, head dim, mask, pass, GQA), then a reason of its own.
  Support supports(const Problem& p) const override {
    if (Support s = check_info(info(), p); !s.ok) return s;
    const double scores =
        static_cast<double>(p.mask->area()) * static_cast<double>(p.shape.heads_q * p.shape.batch);
    if (scores > max_scores)
      return Support::no("too large for a single-threaded loop (" + std::to_string(scores) +
                         " scores, limit " + std::to_string(max_scores) + ")");
    return Support::yes();
  }

  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<NaiveExecution>(p, in, *r.host);
  }
};

}  // namespace

std::shared_ptr<attnbench::Backend> make_naive_backend() { return std::make_shared<NaiveBackend>(); }

}  // namespace example
