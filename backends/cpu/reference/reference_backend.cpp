// Registers cpu.reference: the float64 oracle, benchmarked like any other backend.
#include <algorithm>

#include "attnbench/registry.hpp"
#include "backends/cpu/reference/reference.hpp"

namespace attnbench::cpu {

namespace {

class ReferenceExecution final : public Execution {
 public:
  ReferenceExecution(const Problem& p, const Inputs& in, MemoryTracker& mem)
      : p_(p), in_(in), o_(p.shape.o_elems(), mem), lse_(p.shape.lse_elems(), mem) {
    if (pass_has_backward(p.pass)) {
      dq_ = HostBuffer<double>(p.shape.q_elems(), mem);
      dk_ = HostBuffer<double>(p.shape.k_elems(), mem);
      dv_ = HostBuffer<double>(p.shape.v_elems(), mem);
    }
    // A `bwd` pass times the backward only: its forward runs here, untimed.
    if (p.pass == Pass::bwd) forward();
  }

  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass))
      reference_backward(p_, in_.q.data(), in_.k.data(), in_.v.data(), o_.data(), lse_.data(),
                         in_.dout.data(), dq_.data(), dk_.data(), dv_.data());
  }

  void fetch_outputs(Outputs& out) override { copy_host_outputs(p_.pass, o_, lse_, dq_, dk_, dv_, out); }

 private:
  void forward() { reference_forward(p_, in_.q.data(), in_.k.data(), in_.v.data(), o_.data(), lse_.data()); }

  Problem p_;
  const Inputs& in_;
  HostBuffer<double> o_, lse_, dq_, dk_, dv_;
};

class ReferenceBackend final : public Backend, public ChunkCapable {
 public:
  BackendInfo info() const override {
    BackendInfo i;
    i.name = "cpu.reference";
    i.device = Device::cpu;
    i.description = "float64 oracle: direct softmax per row, every mask, GQA, any head dim";
    i.dtypes = {DType::fp32, DType::bf16, DType::fp16};
    i.separate_kv_heads = true;
    i.head_dim_v = true;
    i.head_masks = true;
    i.bias = true;
    return i;
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<ReferenceExecution>(p, in, *r.host);
  }
  const ChunkKernel& chunk_kernel() const override { return kernel_; }

 private:
  ReferenceChunkKernel kernel_;
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(ReferenceBackend);

}  // namespace attnbench::cpu
