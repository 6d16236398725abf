// cuda.math's arithmetic on device pointers: the cuBLAS GEMMs and row kernels of a forward and backward pass.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "attnbench/problem.hpp"

struct cublasContext;  // cublasHandle_t, without cuBLAS's headers here

namespace attnbench::cuda::math {

// cuBLAS's own workspace, set explicitly so that an execution can charge it to the case.
inline constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

// Device tensors of one pass, [B, S, H, D] (lse and delta [B, Hq, Sq]); the score
// buffers hold `pass_items` Sq × Sk matrices. Backward-only members may be null
// for a forward. Owned by the caller: an execution's buffers or a chunk kernel's staging.
template <class T>
struct MathTensors {
  const T* q = nullptr;
  const T* k = nullptr;
  const T* v = nullptr;
  T* o = nullptr;
  float* lse = nullptr;
  const T* dout = nullptr;
  float* delta = nullptr;
  float* dq = nullptr;
  float* dk = nullptr;
  float* dv = nullptr;
  float* scores = nullptr;
  T* probs = nullptr;
  float* dprobs = nullptr;
  T* dscores = nullptr;
  const std::int64_t* row_ptr = nullptr;  // MaskRows on the device
  const std::int32_t* bounds = nullptr;
  void* workspace = nullptr;  // kCublasWorkspaceBytes
};

// Enqueues the passes on a stream, head items in passes of `pass_items`.
// The backward reads o and lse, which may be the forward's own or, for a CP
// chunk pair, the final ones of the whole row (it recomputes P from lse).
template <class T>
class MathCore {
 public:
  MathCore(const Shape& s, float scale, std::int64_t pass_items, const MathTensors<T>& t)
      : s_(s), scale_(scale), pass_items_(pass_items), t_(t) {}
  void forward(cudaStream_t);
  void backward(cudaStream_t);

 private:
  cublasContext* bind_cublas(cudaStream_t);
  std::int64_t q_offset(std::int64_t b, std::int64_t h) const;
  std::int64_t kv_offset(std::int64_t b, std::int64_t g) const;
  std::int64_t slot() const { return s_.seqlen_q * s_.seqlen_k; }
  void scores_gemm(cublasContext* handle, const T* a, const T* b, float* c, std::int64_t begin,
                   std::int64_t end, std::int64_t c0);

  Shape s_;
  float scale_;
  std::int64_t pass_items_;
  MathTensors<T> t_;
};

}  // namespace attnbench::cuda::math
