// cuda.math's passes: strided batched cuBLAS GEMMs around the masked-softmax row kernels, on caller-owned
// device tensors.
#include "backends/cuda/math/math_core.hpp"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/math/math_plan.hpp"
#include "backends/cuda/math/row_kernels.hpp"

namespace attnbench::cuda::math {

namespace {

cublasHandle_t cublas_handle() {
  // One handle per thread for the process (creating one costs milliseconds).
  thread_local struct Holder {
    cublasHandle_t h = nullptr;
    Holder() { ATTNBENCH_CUBLAS_CHECK(cublasCreate(&h)); }
    ~Holder() { cublasDestroy(h); }
  } holder;
  return holder.h;
}

template <class T>
cudaDataType_t cuda_type();
template <>
cudaDataType_t cuda_type<float>() {
  return CUDA_R_32F;
}
template <>
cudaDataType_t cuda_type<__nv_bfloat16>() {
  return CUDA_R_16BF;
}
template <>
cudaDataType_t cuda_type<__half>() {
  return CUDA_R_16F;
}

// A column-major operand of a strided batched GEMM.
struct Operand {
  const void* ptr;
  cudaDataType_t type;
  std::int64_t ld;
  std::int64_t stride;
};

void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, std::int64_t m, std::int64_t n,
          std::int64_t k, float alpha, Operand a, Operand b, float beta, void* c, cudaDataType_t c_type,
          std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  ATTNBENCH_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &alpha, a.ptr, a.type,
      static_cast<int>(a.ld), a.stride, b.ptr, b.type, static_cast<int>(b.ld), b.stride, &beta, c, c_type,
      static_cast<int>(ldc), stride_c, static_cast<int>(batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

RowKernelArgs row_args(const Shape& s, const std::int64_t* row_ptr, const std::int32_t* bounds, float scale,
                       std::int64_t c0, std::int64_t c1) {
  RowKernelArgs a;
  a.row_ptr = row_ptr;
  a.bounds = bounds;
  a.seqlen_q = s.seqlen_q;
  a.seqlen_k = s.seqlen_k;
  a.batch = s.batch;
  a.heads_q = s.heads_q;
  a.heads_kv = s.heads_kv;
  a.item0 = c0;
  a.items = c1 - c0;
  a.scale = scale;
  return a;
}

}  // namespace

template <class T>
cublasContext* MathCore<T>::bind_cublas(cudaStream_t stream) {
  cublasHandle_t h = cublas_handle();
  ATTNBENCH_CUBLAS_CHECK(cublasSetStream(h, stream));
  ATTNBENCH_CUBLAS_CHECK(cublasSetWorkspace(h, t_.workspace, kCublasWorkspaceBytes));
  return h;
}

// Element offsets of the first head of a sub-batch; consecutive heads of a
// sub-batch step by group * D through Q and by D through K/V (math_plan.hpp).
template <class T>
std::int64_t MathCore<T>::q_offset(std::int64_t b, std::int64_t h) const {
  return (b * s_.seqlen_q * s_.heads_q + h) * s_.head_dim;
}
template <class T>
std::int64_t MathCore<T>::kv_offset(std::int64_t b, std::int64_t g) const {
  return (b * s_.seqlen_k * s_.heads_kv + g) * s_.head_dim;
}

// Row-major S[Sq×Sk] = A[Sq×D]·B[Sk×D]ᵀ is column-major Sᵀ = B·Aᵀ.
template <class T>
void MathCore<T>::scores_gemm(cublasContext* h, const T* a, const T* b, float* c, std::int64_t begin,
                              std::int64_t end, std::int64_t c0) {
  const HeadItem it = item_head(begin, s_);
  const cudaDataType_t t = cuda_type<T>();
  const std::int64_t ldq = s_.heads_q * s_.head_dim, ldkv = s_.heads_kv * s_.head_dim;
  gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, s_.seqlen_k, s_.seqlen_q, s_.head_dim, 1.0f,
       {b + kv_offset(it.b, it.g), t, ldkv, s_.head_dim},
       {a + q_offset(it.b, it.h), t, ldq, s_.group() * s_.head_dim}, 0.0f, c + (begin - c0) * slot(),
       CUDA_R_32F, s_.seqlen_k, slot(), end - begin);
}

template <class T>
void MathCore<T>::forward(cudaStream_t stream) {
  cublasHandle_t h = bind_cublas(stream);
  const std::int64_t items = item_count(s_);
  const cudaDataType_t t = cuda_type<T>();
  const std::int64_t ldq = s_.heads_q * s_.head_dim, ldkv = s_.heads_kv * s_.head_dim;
  for (std::int64_t c0 = 0; c0 < items; c0 += pass_items_) {
    const std::int64_t c1 = std::min(items, c0 + pass_items_);
    for (auto [b0, b1] : gemm_sub_batches(c0, c1, s_)) scores_gemm(h, t_.q, t_.k, t_.scores, b0, b1, c0);
    launch_softmax_forward<T>(row_args(s_, t_.row_ptr, t_.bounds, scale_, c0, c1), t_.scores, t_.probs,
                              t_.lse, stream);
    // Row-major O[Sq×D] = P[Sq×Sk]·V[Sk×D] is column-major Oᵀ = Vᵀ·Pᵀ.
    for (auto [b0, b1] : gemm_sub_batches(c0, c1, s_)) {
      const HeadItem it = item_head(b0, s_);
      gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s_.head_dim, s_.seqlen_q, s_.seqlen_k, 1.0f,
           {t_.v + kv_offset(it.b, it.g), t, ldkv, s_.head_dim},
           {t_.probs + (b0 - c0) * slot(), t, s_.seqlen_k, slot()}, 0.0f, t_.o + q_offset(it.b, it.h), t, ldq,
           s_.group() * s_.head_dim, b1 - b0);
    }
  }
}

template <class T>
void MathCore<T>::backward(cudaStream_t stream) {
  cublasHandle_t h = bind_cublas(stream);
  const std::int64_t items = item_count(s_);
  const cudaDataType_t t = cuda_type<T>();
  const std::int64_t ldq = s_.heads_q * s_.head_dim, ldkv = s_.heads_kv * s_.head_dim;
  const std::int64_t q_stride = s_.group() * s_.head_dim, kv_stride = s_.head_dim;
  launch_row_dot<T>(t_.dout, t_.o, t_.delta, s_.batch, s_.seqlen_q, s_.heads_q, s_.head_dim, stream);
  for (std::int64_t c0 = 0; c0 < items; c0 += pass_items_) {
    const std::int64_t c1 = std::min(items, c0 + pass_items_);
    const auto subs = gemm_sub_batches(c0, c1, s_);
    for (auto [b0, b1] : subs) {
      scores_gemm(h, t_.q, t_.k, t_.scores, b0, b1, c0);
      scores_gemm(h, t_.dout, t_.v, t_.dprobs, b0, b1, c0);  // dP = dO·Vᵀ
    }
    launch_softmax_backward<T>(row_args(s_, t_.row_ptr, t_.bounds, scale_, c0, c1), t_.scores, t_.dprobs,
                               t_.lse, t_.delta, t_.probs, t_.dscores, stream);
    for (auto [b0, b1] : subs) {
      const HeadItem it = item_head(b0, s_);
      // j = 0 items come first (math_plan.hpp): they overwrite dK/dV, later groups add.
      const float beta_kv = it.j == 0 ? 0.0f : 1.0f;
      const T* p = t_.probs + (b0 - c0) * slot();
      const T* ds = t_.dscores + (b0 - c0) * slot();
      const std::int64_t qo = q_offset(it.b, it.h), ko = kv_offset(it.b, it.g);
      // Row-major dV[Sk×D] = Pᵀ·dO is column-major dVᵀ = dOᵀ·P.
      gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s_.head_dim, s_.seqlen_k, s_.seqlen_q, 1.0f,
           {t_.dout + qo, t, ldq, q_stride}, {p, t, s_.seqlen_k, slot()}, beta_kv, t_.dv + ko, CUDA_R_32F,
           ldkv, kv_stride, b1 - b0);
      // dK = scale·dSᵀ·Q, the same pattern.
      gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s_.head_dim, s_.seqlen_k, s_.seqlen_q, scale_,
           {t_.q + qo, t, ldq, q_stride}, {ds, t, s_.seqlen_k, slot()}, beta_kv, t_.dk + ko, CUDA_R_32F, ldkv,
           kv_stride, b1 - b0);
      // Row-major dQ[Sq×D] = scale·dS·K is column-major dQᵀ = scale·Kᵀ·dSᵀ.
      gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s_.head_dim, s_.seqlen_q, s_.seqlen_k, scale_,
           {t_.k + ko, t, ldkv, kv_stride}, {ds, t, s_.seqlen_k, slot()}, 0.0f, t_.dq + qo, CUDA_R_32F, ldq,
           q_stride, b1 - b0);
    }
  }
}

template class MathCore<float>;
template class MathCore<__nv_bfloat16>;
template class MathCore<__half>;

}  // namespace attnbench::cuda::math
