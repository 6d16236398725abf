// cuda.math's execution: device tensors, head passes, cuBLAS strided batched GEMMs and the row kernels.
#include "backends/cuda/math/math_backend.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>

#include "attnbench/registry.hpp"
#include "backends/cuda/common/backend_support.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/common/softmax_scale.hpp"
#include "backends/cuda/math/mask_rows.hpp"
#include "backends/cuda/math/math_core.hpp"
#include "backends/cuda/math/math_plan.hpp"

namespace attnbench::cuda {

namespace {

// Option `heads_per_pass`: a positive count, or 0 (default) for as many as the budget holds.
std::int64_t heads_per_pass_option(const Problem& p) {
  const std::string v = p.option("heads_per_pass", "0");
  std::size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || n < 0) {
    throw InputError("cuda.math: option heads_per_pass: '" + v +
                     "' is not a count (accepted: 0 for automatic, or a positive integer)");
  }
  return n;
}

template <class T>
class MathExecution final : public CudaExecution {
 public:
  MathExecution(const Problem& p, const Inputs& in, Resources& res)
      : CudaExecution(l2_flush_option(p)), p_(p) {
    MemoryTracker* mt = res.device;
    const Shape& s = p.shape;
    const auto scale = static_cast<float>(softmax_scale_or_default(p.softmax_scale, s.head_dim));
    const bool fwd = pass_has_forward(p.pass), bwd = pass_has_backward(p.pass);
    const auto qn = static_cast<std::size_t>(s.q_elems()), kvn = static_cast<std::size_t>(s.kv_elems());
    const auto ln = static_cast<std::size_t>(s.lse_elems());

    const math::MaskRows rows = math::build_mask_rows(*p.mask);
    row_ptr_ = DeviceBuffer<std::int64_t>(rows.row_ptr.size(), mt);
    bounds_ = DeviceBuffer<std::int32_t>(std::max<std::size_t>(rows.bounds.size(), 1), mt);
    copy_in(row_ptr_.data(), rows.row_ptr.data(), rows.row_ptr.size() * sizeof(std::int64_t));
    copy_in(bounds_.data(), rows.bounds.data(), rows.bounds.size() * sizeof(std::int32_t));

    q_ = DeviceBuffer<T>(qn, mt);
    k_ = DeviceBuffer<T>(kvn, mt);
    v_ = DeviceBuffer<T>(kvn, mt);
    o_ = DeviceBuffer<T>(qn, mt);
    lse_ = DeviceBuffer<float>(ln, mt);
    upload(q_, in.q);
    upload(k_, in.k);
    upload(v_, in.v);
    if (bwd) {
      do_ = DeviceBuffer<T>(qn, mt);
      upload(do_, in.dout);
      delta_ = DeviceBuffer<float>(ln, mt);
      dq_ = DeviceBuffer<float>(qn, mt);
      dk_ = DeviceBuffer<float>(kvn, mt);
      dv_ = DeviceBuffer<float>(kvn, mt);
    }
    workspace_ = DeviceBuffer<unsigned char>(math::kCublasWorkspaceBytes, mt);

    // Head passes: as many heads per pass as the rest of the budget holds.
    const std::size_t per_item = math::score_bytes_per_item(s, sizeof(T), bwd);
    // The smaller of what the budget leaves and what the device has free (less a
    // margin for cuBLAS and the L2 flush buffer).
    std::size_t free_bytes = 0, total = 0;
    ATTNBENCH_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    std::size_t available = free_bytes / 10 * 9;
    if (mt != nullptr) {
      available = std::min(available, mt->budget() > mt->live() ? mt->budget() - mt->live() : 0);
    }
    const std::int64_t requested = heads_per_pass_option(p);
    pass_items_ = math::items_per_pass(math::item_count(s), per_item, available, requested);
    if (pass_items_ == 0) {
      throw OutOfMemory("cuda.math: one head's S×S intermediates need " + std::to_string(per_item) +
                        " bytes, " + std::to_string(available) + " are left in the device budget");
    }
    const auto slot = static_cast<std::size_t>(s.seqlen_q) * static_cast<std::size_t>(s.seqlen_k);
    const auto slots = slot * static_cast<std::size_t>(pass_items_);
    scores_ = DeviceBuffer<float>(slots, mt);
    probs_ = DeviceBuffer<T>(slots, mt);
    if (bwd) {
      dprobs_ = DeviceBuffer<float>(slots, mt);
      dscores_ = DeviceBuffer<T>(slots, mt);
    }
    math::MathTensors<T> t;
    t.q = q_.data();
    t.k = k_.data();
    t.v = v_.data();
    t.o = o_.data();
    t.lse = lse_.data();
    t.dout = do_.data();
    t.delta = delta_.data();
    t.dq = dq_.data();
    t.dk = dk_.data();
    t.dv = dv_.data();
    t.scores = scores_.data();
    t.probs = probs_.data();
    t.dprobs = dprobs_.data();
    t.dscores = dscores_.data();
    t.row_ptr = row_ptr_.data();
    t.bounds = bounds_.data();
    t.workspace = workspace_.data();
    core_ = std::make_unique<math::MathCore<T>>(s, scale, pass_items_, t);
    // A backward-only pass needs the forward's O and LSE: computed here, untimed.
    if (!fwd) {
      core_->forward(stream());
      synchronize();
    }
  }

  void run() override {
    if (pass_has_forward(p_.pass)) core_->forward(stream());
    if (pass_has_backward(p_.pass)) core_->backward(stream());
  }

  void fetch_outputs(Outputs& out) override {
    synchronize();
    if (pass_has_forward(p_.pass)) {
      out.o = download(o_);
      out.lse = download(lse_);
    }
    if (pass_has_backward(p_.pass)) {
      out.dq = download(dq_);
      out.dk = download(dk_);
      out.dv = download(dv_);
    }
  }

  std::vector<Metric> metrics() override {
    Metric m;
    m.name = "heads_per_pass";
    m.value = static_cast<double>(pass_items_);
    return {m};
  }

 private:
  static void copy_in(void* dst, const void* src, std::size_t bytes) {
    if (bytes != 0) ATTNBENCH_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }

  Problem p_;
  std::int64_t pass_items_ = 0;
  DeviceBuffer<std::int64_t> row_ptr_;
  DeviceBuffer<std::int32_t> bounds_;
  DeviceBuffer<T> q_, k_, v_, o_, do_;
  DeviceBuffer<float> lse_, delta_, dq_, dk_, dv_;
  DeviceBuffer<unsigned char> workspace_;
  DeviceBuffer<float> scores_, dprobs_;
  DeviceBuffer<T> probs_, dscores_;
  std::unique_ptr<math::MathCore<T>> core_;
};

}  // namespace

BackendInfo CudaMathBackend::info() const {
  BackendInfo i;
  i.name = "cuda.math";
  i.device = Device::cuda;
  i.description = "materialising baseline on cuBLAS: QK^T, masked softmax, PV; GEMM backward";
  i.dtypes = {DType::bf16, DType::fp16, DType::fp32};
  return i;
}

Support CudaMathBackend::supports(const Problem& p) const {
  Support s = check_cuda_support(info(), p);
  if (!s.ok) return s;
  const Shape& sh = p.shape;
  if (sh.seqlen_q > std::numeric_limits<std::int32_t>::max() ||
      sh.seqlen_k > std::numeric_limits<std::int32_t>::max()) {
    return Support::no("cuda.math: sequence lengths must be below 2^31");
  }
  return Support::yes();
}

std::unique_ptr<Execution> CudaMathBackend::prepare(const Problem& p, const Inputs& in, Resources& res) {
  switch (p.dtype) {
    case DType::bf16: return std::make_unique<MathExecution<__nv_bfloat16>>(p, in, res);
    case DType::fp16: return std::make_unique<MathExecution<__half>>(p, in, res);
    case DType::fp32: return std::make_unique<MathExecution<float>>(p, in, res);
    default:
      throw std::invalid_argument("cuda.math: dtype " + std::string(to_string(p.dtype)) +
                                  " is not supported");
  }
}

ATTNBENCH_REGISTER_BACKEND(CudaMathBackend);

}  // namespace attnbench::cuda
