// Registers cpu.flash: the FlashAttention-2 CPU backend (tiled, block-sparse, fwd + bwd) and its chunk
// kernel.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "attnbench/registry.hpp"
#include "backends/cpu/flash/flash_driver.hpp"
#include "backends/cpu/host_tensors.hpp"

namespace attnbench::cpu {

namespace {

using flash::Geometry;
using flash::KernelSet;

// One prepared case: the tile plan, outputs and workspace are made (and charged
// to the memory budget) here; run() only computes.
class FlashExecution final : public Execution {
 public:
  FlashExecution(const Problem& p, const Inputs& in, Resources& r)
      : p_(p),
        in_(in),
        // Per-(b, h) masks come from 64-token blocks (selectors) or per-sequence prefixes: tiles of 64 rows.
        kernels_(p.uniform_mask() ? flash::select_kernels()
                                  : flash::head_mask_kernels(flash::select_kernels())),
        threads_(r.threads > 0 ? r.threads : flash::default_threads()),
        g_(flash::geometry_of(p)),
        heads_(flash::make_head_plans(p, kernels_)),
        bias_(flash::make_bias_tables(p)),
        plan_(p.uniform_mask() ? flash::make_tile_plan(*p.mask, kernels_, 0, g_.seqlen_q, 0, g_.seqlen_k)
                               : flash::TilePlan{}) {
    MemoryTracker& mem = *r.host;
    check_input_sizes(p, in, "cpu.flash");
    allocate_outputs(p, mem, o_, lse_, dq_, dk_, dv_);
    std::size_t ws = flash::forward_workspace(kernels_, g_, threads_);
    if (pass_has_backward(p.pass)) ws = std::max(ws, kernels_.backward_workspace(g_, threads_));
    workspace_ = HostBuffer<float>(ws, mem);
    // A `bwd` pass times the backward only: its forward runs here, untimed.
    if (p.pass == Pass::bwd) forward();
  }

  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass)) backward();
  }

  void fetch_outputs(Outputs& out) override { copy_host_outputs(p_.pass, o_, lse_, dq_, dk_, dv_, out); }

  std::vector<Metric> metrics() override {
    Metric isa;
    isa.name = "cpu_isa";
    isa.text = kernels_.isa;
    Metric threads;
    threads.name = "cpu_threads";
    threads.value = threads_;
    Metric path;  // which forward ran: "decode" (few queries, K/V in place) or "tiled"
    path.name = "cpu_forward";
    path.text = flash::use_decode_path(g_) ? "decode" : "tiled";
    return {isa, threads, path};
  }

 private:
  void forward() {
    flash::run_forward(kernels_, plan(), *p_.mask, g_, 0, 0, in_.q.data(), in_.k.data(), in_.v.data(),
                       o_.data(), lse_.data(), workspace_.data(), threads_, head_plans(), &bias_.view);
  }
  void backward() {
    flash::run_backward(kernels_, plan(), *p_.mask, g_, 0, 0, in_.q.data(), in_.k.data(), in_.v.data(),
                        o_.data(), lse_.data(), in_.dout.data(), dq_.data(), dk_.data(), dv_.data(),
                        workspace_.data(), threads_, head_plans(), &bias_.view);
  }

  const flash::HeadPlans* head_plans() const { return p_.uniform_mask() ? nullptr : &heads_; }
  // The plan whose tile order the work items follow: the problem's, or with per-(b, h) masks the first
  // (b, h)'s (not copied).
  const flash::TilePlan& plan() const { return p_.uniform_mask() ? plan_ : heads_.plans.front(); }

  Problem p_;
  const Inputs& in_;
  const KernelSet& kernels_;
  int threads_;
  Geometry g_;
  flash::HeadPlans heads_;  // empty unless the mask differs per (batch, head)
  flash::BiasTables bias_;  // kind 0 unless the problem has an additive bias
  flash::TilePlan plan_;    // empty with per-(b, h) masks (plan())
  HostBuffer<float> o_, lse_, dq_, dk_, dv_, workspace_;
};

// The same kernels on a chunk pair: tiles are aligned to the chunk's origin and
// partial tiles ask the global mask.
class FlashChunkKernel final : public ChunkKernel {
 public:
  void forward(const ChunkTask& t, const float* q, const float* k, const float* v, float* o,
               float* lse) const override {
    flash::run_forward(flash::select_kernels(), *t.mask, flash::geometry_of(t), t.q_begin, t.k_begin, q, k, v,
                       o, lse, 0);
  }
  void backward(const ChunkTask& t, const float* q, const float* k, const float* v, const float* o,
                const float* lse, const float* dout, float* dq, float* dk, float* dv) const override {
    flash::run_backward(flash::select_kernels(), *t.mask, flash::geometry_of(t), t.q_begin, t.k_begin, q, k,
                        v, o, lse, dout, dq, dk, dv, 0);
  }
};

class FlashBackend final : public Backend, public ChunkCapable {
 public:
  BackendInfo info() const override {
    BackendInfo i;
    i.name = "cpu.flash";
    i.device = Device::cpu;
    std::string isa;
    try {
      isa = std::string(flash::select_kernels().isa) + " kernels";
    } catch (const InputError& e) {  // a bad ATTNBENCH_CPU_ISA: say so here, fail in prepare()
      isa = e.what();
    }
    i.description =
        "FlashAttention-2 on the CPU: tiled online softmax, empty tiles skipped, "
        "OpenMP, " +
        isa;
    i.dtypes = {DType::fp32};
    // Any head dims (packed panels are zero-padded to the vector width); 64 and 128 are the tuned ones.
    i.separate_kv_heads = true;
    i.head_dim_v = true;
    i.head_masks = true;
    i.bias = true;
    return i;
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<FlashExecution>(p, in, r);
  }
  const ChunkKernel& chunk_kernel() const override { return chunk_; }

 private:
  FlashChunkKernel chunk_;
};

}  // namespace

ATTNBENCH_REGISTER_BACKEND(FlashBackend);

}  // namespace attnbench::cpu
