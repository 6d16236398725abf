// Registers cpu.math: the materialising baseline whose [B, H, Sq, Sk] scores count against the memory budget.
#include <omp.h>

#include <memory>
#include <stdexcept>

#include "attnbench/registry.hpp"
#include "backends/cpu/host_tensors.hpp"
#include "backends/cpu/math/math_attention.hpp"

namespace attnbench::cpu {

namespace {

class MathExecution final : public Execution {
 public:
  MathExecution(const Problem& p, const Inputs& in, Resources& r)
      : p_(p), in_(in), threads_(r.threads > 0 ? r.threads : omp_get_max_threads()) {
    MemoryTracker& mem = *r.host;
    check_input_sizes(p, in, "cpu.math");
    // The score tensors first: past the budget this throws OutOfMemory (an `oom`
    // row) before anything large is touched. Like PyTorch: the additive mask,
    // P for every (batch, head), and for the backward dP as well.
    mask_ = HostBuffer<float>(math::mask_elems(p), mem);
    probs_ = HostBuffer<float>(math::score_elems(p), mem);
    if (pass_has_backward(p.pass)) dprobs_ = HostBuffer<float>(math::score_elems(p), mem);
    allocate_outputs(p, mem, o_, lse_, dq_, dk_, dv_);
    // The boolean mask is an input of PyTorch's SDPA: its float form is made here, untimed.
    math::build_additive_mask(p, mask_.data(), threads_);
    if (p.pass == Pass::bwd) forward();  // untimed: a `bwd` pass times the backward only
  }

  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass))
      math::backward(p_, in_.q.data(), in_.k.data(), in_.v.data(), probs_.data(), in_.dout.data(),
                     dprobs_.data(), dq_.data(), dk_.data(), dv_.data(), threads_);
  }

  void fetch_outputs(Outputs& out) override { copy_host_outputs(p_.pass, o_, lse_, dq_, dk_, dv_, out); }

 private:
  void forward() {
    math::forward(p_, in_.q.data(), in_.k.data(), in_.v.data(), mask_.data(), probs_.data(), o_.data(),
                  lse_.data(), threads_);
  }

  Problem p_;
  const Inputs& in_;
  int threads_;
  HostBuffer<float> mask_, probs_, dprobs_, o_, lse_, dq_, dk_, dv_;
};

class MathBackend final : public Backend {
 public:
  BackendInfo info() const override {
    BackendInfo i;
    i.name = "cpu.math";
    i.device = Device::cpu;
    i.description =
        "materialising baseline as PyTorch's math SDPA: [B,H,Sq,Sk] scores, OpenBLAS sgemm, "
        "additive mask, safe softmax";
    i.dtypes = {DType::fp32};
    i.separate_kv_heads = true;
    i.head_dim_v = true;
    i.head_masks = true;
    i.bias = true;
    return i;
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<MathExecution>(p, in, r);
  }
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(MathBackend);

}  // namespace attnbench::cpu
