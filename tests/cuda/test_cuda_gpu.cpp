// Device tests of the CUDA layer and backends against the float64 reference (need a GPU; skipped without
// one).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "attnbench/registry.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"

using namespace attnbench;
using namespace attnbench::cuda;

namespace {

struct MaskCase {
  std::string name;
  std::map<std::string, std::string> params;
};

// Every mask of the library, at S = 256 (parameters sized for it).
const std::vector<MaskCase>& library_masks() {
  static const std::vector<MaskCase> masks = {
      {"full", {}},
      {"causal", {}},
      {"sliding_window", {{"window", "32"}}},
      {"causal_sliding_window", {{"window", "48"}}},
      {"full_document", {{"doc_lengths", "[40, 100, 116]"}}},
      {"causal_document", {{"doc_lengths", "[40, 100, 116]"}}},
      {"share_question", {{"doc_lengths", "[64, 96, 96]"}}},
      {"causal_blockwise", {{"doc_lengths", "[64, 96, 96]"}}},
      {"prefix_lm_causal", {{"prefix", "64"}}},
      {"prefix_lm_document", {{"doc_lengths", "[64, 96, 96]"}, {"prefix", "16"}}},
      {"global_sliding_window", {{"global", "16"}, {"window", "32"}}},
      {"block_causal_document", {{"block", "32"}, {"doc_lengths", "[64, 96, 96]"}}},
      {"block_sparse", {{"block", "32"}, {"keep", "0.3"}, {"seed", "1"}}},
      {"var_block_sparse", {{"avg_block", "32"}, {"min_block", "16"}, {"keep", "0.3"}, {"seed", "1"}}},
  };
  return masks;
}

Problem make_problem(MaskPtr m, Pass pass, DType dtype, std::int64_t batch = 2, std::int64_t hq = 4,
                     std::int64_t hkv = 2, std::int64_t d = 64) {
  Problem p;
  p.shape = {batch, hq, hkv, m->seqlen_q(), m->seqlen_k(), d};
  p.dtype = dtype;
  p.pass = pass;
  p.mask = std::move(m);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(d));
  p.seed = 17;
  return p;
}

Outputs reference(const Problem& p, const Inputs& in) {
  const Shape& s = p.shape;
  std::vector<double> o(s.q_elems()), lse(s.lse_elems()), dq(s.q_elems()), dk(s.kv_elems()), dv(s.kv_elems());
  cpu::reference_forward(p, in.q.data(), in.k.data(), in.v.data(), o.data(), lse.data());
  Outputs r;
  r.o.assign(o.begin(), o.end());
  r.lse.assign(lse.begin(), lse.end());
  if (pass_has_backward(p.pass)) {
    cpu::reference_backward(p, in.q.data(), in.k.data(), in.v.data(), o.data(), lse.data(), in.dout.data(),
                            dq.data(), dk.data(), dv.data());
    r.dq.assign(dq.begin(), dq.end());
    r.dk.assign(dk.begin(), dk.end());
    r.dv.assign(dv.begin(), dv.end());
  }
  return r;
}

struct Run {
  Outputs out;
  double seconds = 0;
  std::size_t peak = 0;
};

Run run_backend(const std::string& name, const Problem& p, const Inputs& in, std::size_t budget = SIZE_MAX) {
  Backend* b = Registry::instance().find_backend(name);
  REQUIRE(b != nullptr);
  MemoryTracker host(budget), device(budget);
  Resources res{&host, &device, nullptr, 0};
  Run r;
  {
    auto exec = b->prepare(p, in, res);
    exec->run();  // warm-up
    r.seconds = exec->timed_run().seconds;
    exec->timed_run();
    exec->fetch_outputs(r.out);
    r.peak = device.peak();
  }
  REQUIRE(device.live() == 0);  // every device buffer released with the execution
  return r;
}

void check_against_reference(const std::string& backend, const Problem& p, double tol) {
  const Inputs in = generate_inputs(p);
  const Run r = run_backend(backend, p, in);
  REQUIRE(r.seconds > 0);
  REQUIRE(r.peak > 0);
  const CheckResult c = compare_outputs(r.out, reference(p, in), p.pass, tol, tol);
  INFO(backend << " " << p.mask->name() << " " << p.mask->params_json() << " " << to_string(p.pass) << " "
               << to_string(p.dtype) << ": rel L2 " << c.rel_l2_err << " (" << c.worst << ")");
  CHECK(c.passed);
}

}  // namespace

TEST_CASE("device facts for the context block", "[gpu]") {
  const auto props = cuda_device_properties();
  std::map<std::string, std::string> m(props.begin(), props.end());
  REQUIRE(m.count("gpu_model") == 1);
  REQUIRE(std::stoi(m.at("gpu_sm_count")) > 0);
  REQUIRE(std::stoull(m.at("gpu_memory_bytes")) > 0);
  REQUIRE(m.count("cuda_driver_version") == 1);
}

TEST_CASE("device buffers are charged, released, and refused past the budget", "[gpu]") {
  MemoryTracker t(1 << 20);
  {
    DeviceBuffer<float> a(1000, &t);
    REQUIRE(t.live() == 4000);
    DeviceBuffer<float> b = std::move(a);
    REQUIRE(t.live() == 4000);
    REQUIRE_THROWS_AS(DeviceBuffer<float>(1 << 20, &t), OutOfMemory);
    REQUIRE(t.live() == 4000);
  }
  REQUIRE(t.live() == 0);
  REQUIRE(t.peak() == 4000);
  MemoryTracker unlimited;
  REQUIRE_THROWS_AS(DeviceBuffer<char>(std::size_t{1} << 50, &unlimited), OutOfMemory);  // cudaMalloc fails
  REQUIRE(unlimited.live() == 0);
}

TEST_CASE("bf16/fp16 uploads and downloads round trip the harness's rounding", "[gpu]") {
  std::vector<float> x(4097);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(0.37f * i) * std::ldexp(1.0f, static_cast<int>(i % 11) - 5);
  for (DType d : {DType::bf16, DType::fp16, DType::fp32}) {
    DeviceTensor t(d, x.size(), nullptr);
    t.upload(x);
    const auto back = t.download();
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(back[i] == round_to_dtype(x[i], d));
  }
}

TEST_CASE("event timing measures the run and the L2 flush is outside it", "[gpu]") {
  struct Sleepy final : CudaExecution {
    DeviceBuffer<char> buf{std::size_t{256} << 20, nullptr};
    void run() override { ATTNBENCH_CUDA_CHECK(cudaMemsetAsync(buf.data(), 1, buf.bytes(), stream())); }
    void fetch_outputs(Outputs&) override {}
  } e;
  const double with_flush = e.timed_run().seconds;
  e.set_flush_l2(false);
  const double without = e.timed_run().seconds;
  REQUIRE(with_flush > 0);
  REQUIRE(without > 0);
  REQUIRE(with_flush < 1.0);  // 256 MiB memset: far below a second on any data-centre GPU
}

TEST_CASE("cuda.math matches the reference on every mask, forward and backward, bf16", "[gpu][math]") {
  for (const auto& mc : library_masks()) {
    const auto m = build_mask(MaskSpec{mc.name, mc.params}, 256, 256);
    for (Pass pass : {Pass::fwd, Pass::bwd, Pass::fwd_bwd}) {
      check_against_reference("cuda.math", make_problem(m, pass, DType::bf16), 1e-2);
    }
  }
}

TEST_CASE("cuda.math in fp16 and fp32, with Sq != Sk and empty rows", "[gpu][math]") {
  check_against_reference(
      "cuda.math", make_problem(build_mask(MaskSpec{"causal", {}}, 192, 128), Pass::fwd_bwd, DType::fp16),
      1e-2);
  check_against_reference(
      "cuda.math", make_problem(build_mask(MaskSpec{"causal", {}}, 96, 160), Pass::fwd_bwd, DType::fp32),
      1e-4);
  check_against_reference(
      "cuda.math",
      make_problem(build_mask(MaskSpec{"full", {}}, 100, 37), Pass::fwd_bwd, DType::bf16, 1, 6, 3, 40), 1e-2);
}

TEST_CASE("cuda.math gives the same result one head per pass", "[gpu][math]") {
  Problem p =
      make_problem(build_mask(MaskSpec{"causal_document", {{"doc_lengths", "[50, 150, 56]"}}}, 256, 256),
                   Pass::fwd_bwd, DType::bf16);
  const Inputs in = generate_inputs(p);
  const Run all = run_backend("cuda.math", p, in);
  p.options["heads_per_pass"] = "1";
  const Run one = run_backend("cuda.math", p, in);
  REQUIRE(one.peak < all.peak);
  // Not bitwise: cuBLAS may pick other kernels for other batch counts, and a last-bit change of
  // an fp32 score can flip a bf16 probability. A wrong head or pass mapping errs by O(1).
  const CheckResult c = compare_outputs(one.out, all.out, p.pass, 1e-3, 1e-3);
  INFO("rel L2 " << c.rel_l2_err << " " << c.worst);
  REQUIRE(c.passed);
}

TEST_CASE("cuda.math is oom when one head's scores exceed the budget", "[gpu][math]") {
  const Problem p = make_problem(build_mask(MaskSpec{"full", {}}, 1024, 1024), Pass::fwd, DType::bf16);
  const Inputs in = generate_inputs(p);
  REQUIRE_THROWS_AS(run_backend("cuda.math", p, in, std::size_t{4} << 20), OutOfMemory);
}

TEST_CASE("cudnn.sdpa matches the reference on the masks it supports, forward and backward", "[gpu][cudnn]") {
  Backend* b = Registry::instance().find_backend("cudnn.sdpa");
  if (b == nullptr)
    FAIL("cudnn.sdpa is not built into this binary (cuDNN frontend not found at configure time)");
  int supported = 0;
  for (const auto& mc : library_masks()) {
    const auto m = build_mask(MaskSpec{mc.name, mc.params}, 256, 256);
    for (Pass pass : {Pass::fwd, Pass::bwd, Pass::fwd_bwd}) {
      for (DType dtype : {DType::bf16, DType::fp16}) {
        const Problem p = make_problem(m, pass, dtype);
        const Support s = b->supports(p);
        INFO(mc.name << ": " << s.reason);
        if (!s.ok) {
          CHECK_THAT(s.reason, Catch::Contains("mask " + mc.name) && Catch::Contains("not"));
          continue;
        }
        ++supported;
        check_against_reference("cudnn.sdpa", p, 1e-2);
      }
    }
  }
  REQUIRE(supported == 6 * 3 * 2);  // full, causal, two windows, two document masks
}

TEST_CASE("cudnn.sdpa with head_dim 128, GQA 8:1 and bottom-right causal Sq < Sk", "[gpu][cudnn]") {
  if (Registry::instance().find_backend("cudnn.sdpa") == nullptr) FAIL("cudnn.sdpa is not built");
  check_against_reference(
      "cudnn.sdpa",
      make_problem(build_mask(MaskSpec{"causal", {}}, 512, 512), Pass::fwd_bwd, DType::bf16, 1, 16, 2, 128),
      1e-2);
  check_against_reference(
      "cudnn.sdpa",
      make_problem(build_mask(MaskSpec{"causal", {}}, 128, 320), Pass::fwd_bwd, DType::bf16, 1, 4, 4, 64),
      1e-2);
}
