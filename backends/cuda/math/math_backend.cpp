// cuda.math's execution: device tensors, head passes, cuBLAS strided batched GEMMs and the row kernels.
#include "backends/cuda/math/math_backend.hpp"

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "attnbench/registry.hpp"
#include "backends/cuda/common/backend_support.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/math/mask_rows.hpp"
#include "backends/cuda/math/math_plan.hpp"
#include "backends/cuda/math/row_kernels.hpp"

namespace attnbench::cuda {

namespace {

using math::HeadItem;

// cuBLAS's own workspace, set explicitly so that it is charged to the case.
constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

cublasHandle_t cublas_handle() {
  // One handle per thread for the process (creating one costs milliseconds).
  thread_local struct Holder {
    cublasHandle_t h = nullptr;
    Holder() { ATTNBENCH_CUBLAS_CHECK(cublasCreate(&h)); }
    ~Holder() { cublasDestroy(h); }
  } holder;
  return holder.h;
}

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

template <class T> cudaDataType_t cuda_type();
template <> cudaDataType_t cuda_type<float>() { return CUDA_R_32F; }
template <> cudaDataType_t cuda_type<__nv_bfloat16>() { return CUDA_R_16BF; }
template <> cudaDataType_t cuda_type<__half>() { return CUDA_R_16F; }

// A column-major operand of a strided batched GEMM.
struct Operand {
  const void* ptr;
  cudaDataType_t type;
  std::int64_t ld;
  std::int64_t stride;
};

void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, std::int64_t m,
          std::int64_t n, std::int64_t k, float alpha, Operand a, Operand b, float beta, void* c,
          cudaDataType_t c_type, std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  ATTNBENCH_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &alpha, a.ptr,
      a.type, static_cast<int>(a.ld), a.stride, b.ptr, b.type, static_cast<int>(b.ld), b.stride,
      &beta, c, c_type, static_cast<int>(ldc), stride_c, static_cast<int>(batch),
      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

template <class T>
class MathExecution final : public CudaExecution {
 public:
  MathExecution(const Problem& p, const Inputs& in, Resources& res)
      : CudaExecution(l2_flush_option(p)), p_(p), s_(p.shape) {
    MemoryTracker* mt = res.device;
    const Shape& s = s_;
    scale_ = static_cast<float>(p.softmax_scale > 0.0 ? p.softmax_scale
                                                      : 1.0 / std::sqrt(double(s.head_dim)));
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
    workspace_ = DeviceBuffer<unsigned char>(kCublasWorkspaceBytes, mt);

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
    // A backward-only pass needs the forward's O and LSE: computed here, untimed.
    if (!fwd) {
      forward();
      synchronize();
    }
  }

  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass)) backward();
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

  cublasHandle_t bind_cublas() {
    cublasHandle_t h = cublas_handle();
    ATTNBENCH_CUBLAS_CHECK(cublasSetStream(h, stream()));
    ATTNBENCH_CUBLAS_CHECK(cublasSetWorkspace(h, workspace_.data(), workspace_.bytes()));
    return h;
  }

  math::RowKernelArgs row_args(std::int64_t c0, std::int64_t c1) const {
    math::RowKernelArgs a;
    a.row_ptr = row_ptr_.data();
    a.bounds = bounds_.data();
    a.seqlen_q = s_.seqlen_q;
    a.seqlen_k = s_.seqlen_k;
    a.batch = s_.batch;
    a.heads_q = s_.heads_q;
    a.heads_kv = s_.heads_kv;
    a.item0 = c0;
    a.items = c1 - c0;
    a.scale = scale_;
    return a;
  }

  // Element offsets of the first head of a sub-batch, and the strides between its heads.
  std::int64_t q_offset(const HeadItem& it) const {
    return (it.b * s_.seqlen_q * s_.heads_q + it.h) * s_.head_dim;
  }
  std::int64_t kv_offset(const HeadItem& it) const {
    return (it.b * s_.seqlen_k * s_.heads_kv + it.g) * s_.head_dim;
  }
  std::int64_t q_stride() const { return s_.group() * s_.head_dim; }
  std::int64_t kv_stride() const { return s_.head_dim; }
  std::int64_t ldq() const { return s_.heads_q * s_.head_dim; }
  std::int64_t ldkv() const { return s_.heads_kv * s_.head_dim; }
  std::int64_t slot() const { return s_.seqlen_q * s_.seqlen_k; }

  // Row-major S[Sq×Sk] = A[Sq×D]·B[Sk×D]ᵀ is column-major Sᵀ = B·Aᵀ.
  void scores_gemm(cublasHandle_t h, const T* a, const T* b, float* c, std::int64_t begin,
                   std::int64_t end, std::int64_t c0) {
    const HeadItem it = math::item_head(begin, s_);
    const cudaDataType_t t = cuda_type<T>();
    gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, s_.seqlen_k, s_.seqlen_q, s_.head_dim, 1.0f,
         {b + kv_offset(it), t, ldkv(), kv_stride()}, {a + q_offset(it), t, ldq(), q_stride()}, 0.0f,
         c + (begin - c0) * slot(), CUDA_R_32F, s_.seqlen_k, slot(), end - begin);
  }

  void forward() {
    cublasHandle_t h = bind_cublas();
    const std::int64_t items = math::item_count(s_);
    const cudaDataType_t t = cuda_type<T>();
    for (std::int64_t c0 = 0; c0 < items; c0 += pass_items_) {
      const std::int64_t c1 = std::min(items, c0 + pass_items_);
      for (auto [b0, b1] : math::gemm_sub_batches(c0, c1, s_)) {
        scores_gemm(h, q_.data(), k_.data(), scores_.data(), b0, b1, c0);
      }
      math::launch_softmax_forward<T>(row_args(c0, c1), scores_.data(), probs_.data(), lse_.data(),
                                      stream());
      // Row-major O[Sq×D] = P[Sq×Sk]·V[Sk×D] is column-major Oᵀ = Vᵀ·Pᵀ.
      for (auto [b0, b1] : math::gemm_sub_batches(c0, c1, s_)) {
        const HeadItem it = math::item_head(b0, s_);
        gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s_.head_dim, s_.seqlen_q, s_.seqlen_k, 1.0f,
             {v_.data() + kv_offset(it), t, ldkv(), kv_stride()},
             {probs_.data() + (b0 - c0) * slot(), t, s_.seqlen_k, slot()}, 0.0f,
             o_.data() + q_offset(it), t, ldq(), q_stride(), b1 - b0);
      }
    }
  }

  void backward() {
    cublasHandle_t h = bind_cublas();
    const std::int64_t items = math::item_count(s_);
    const cudaDataType_t t = cuda_type<T>();
    math::launch_row_dot<T>(do_.data(), o_.data(), delta_.data(), s_.batch, s_.seqlen_q,
                            s_.heads_q, s_.head_dim, stream());
    for (std::int64_t c0 = 0; c0 < items; c0 += pass_items_) {
      const std::int64_t c1 = std::min(items, c0 + pass_items_);
      const auto subs = math::gemm_sub_batches(c0, c1, s_);
      for (auto [b0, b1] : subs) {
        scores_gemm(h, q_.data(), k_.data(), scores_.data(), b0, b1, c0);
        scores_gemm(h, do_.data(), v_.data(), dprobs_.data(), b0, b1, c0);  // dP = dO·Vᵀ
      }
      math::launch_softmax_backward<T>(row_args(c0, c1), scores_.data(), dprobs_.data(),
                                       lse_.data(), delta_.data(), probs_.data(), dscores_.data(),
                                       stream());
      for (auto [b0, b1] : subs) {
        const HeadItem it = math::item_head(b0, s_);
        // j = 0 items come first (math_plan.hpp): they overwrite dK/dV, later groups add.
        const float beta_kv = it.j == 0 ? 0.0f : 1.0f;
        const T* p = probs_.data() + (b0 - c0) * slot();
        const T* ds = dscores_.data() + (b0 - c0) * slot();
        // Row-major dV[Sk×D] = Pᵀ·dO is column-major dVᵀ = dOᵀ·P.
        gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s_.head_dim, s_.seqlen_k, s_.seqlen_q, 1.0f,
             {do_.data() + q_offset(it), t, ldq(), q_stride()}, {p, t, s_.seqlen_k, slot()}, beta_kv,
             dv_.data() + kv_offset(it), CUDA_R_32F, ldkv(), kv_stride(), b1 - b0);
        // dK = scale·dSᵀ·Q, the same pattern.
        gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s_.head_dim, s_.seqlen_k, s_.seqlen_q, scale_,
             {q_.data() + q_offset(it), t, ldq(), q_stride()}, {ds, t, s_.seqlen_k, slot()}, beta_kv,
             dk_.data() + kv_offset(it), CUDA_R_32F, ldkv(), kv_stride(), b1 - b0);
        // Row-major dQ[Sq×D] = scale·dS·K is column-major dQᵀ = scale·Kᵀ·dSᵀ.
        gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s_.head_dim, s_.seqlen_q, s_.seqlen_k, scale_,
             {k_.data() + kv_offset(it), t, ldkv(), kv_stride()}, {ds, t, s_.seqlen_k, slot()}, 0.0f,
             dq_.data() + q_offset(it), CUDA_R_32F, ldq(), q_stride(), b1 - b0);
      }
    }
  }

  Problem p_;
  Shape s_;
  float scale_ = 1.0f;
  std::int64_t pass_items_ = 0;
  DeviceBuffer<std::int64_t> row_ptr_;
  DeviceBuffer<std::int32_t> bounds_;
  DeviceBuffer<T> q_, k_, v_, o_, do_;
  DeviceBuffer<float> lse_, delta_, dq_, dk_, dv_;
  DeviceBuffer<unsigned char> workspace_;
  DeviceBuffer<float> scores_, dprobs_;
  DeviceBuffer<T> probs_, dscores_;
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

std::unique_ptr<Execution> CudaMathBackend::prepare(const Problem& p, const Inputs& in,
                                                    Resources& res) {
  switch (p.dtype) {
    case DType::bf16: return std::make_unique<MathExecution<__nv_bfloat16>>(p, in, res);
    case DType::fp16: return std::make_unique<MathExecution<__half>>(p, in, res);
    case DType::fp32: return std::make_unique<MathExecution<float>>(p, in, res);
    default: throw std::invalid_argument("cuda.math: dtype " + std::string(to_string(p.dtype)) +
                                         " is not supported");
  }
}

ATTNBENCH_REGISTER_BACKEND(CudaMathBackend);

}  // namespace attnbench::cuda
