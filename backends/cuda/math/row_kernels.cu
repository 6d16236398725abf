// cuda.math's row kernels: masked softmax over per-row key ranges (forward, backward) and the dO·O row dot.
#include "backends/cuda/math/row_kernels.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/math/math_plan.hpp"

namespace attnbench::cuda::math {

namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

template <class T>
__device__ T cast_from(float x);
template <>
__device__ float cast_from<float>(float x) {
  return x;
}
template <>
__device__ __nv_bfloat16 cast_from<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __half cast_from<__half>(float x) {
  return __float2half_rn(x);
}

__device__ float cast_to_float(float x) { return x; }
__device__ float cast_to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ float cast_to_float(__half x) { return __half2float(x); }

// Running (max, sum of 2^(x - max)) pair of an online softmax, in base 2.
struct MaxSum {
  float m;
  float l;
};

__device__ MaxSum combine(MaxSum a, MaxSum b) {
  if (a.m == -INFINITY) return b;  // also avoids (-inf) - (-inf)
  if (b.m == -INFINITY) return a;
  const float m = fmaxf(a.m, b.m);
  return {m, a.l * exp2f(a.m - m) + b.l * exp2f(b.m - m)};
}

// Combines the pairs of all threads of the block; every thread gets the result.
__device__ MaxSum block_reduce(MaxSum v) {
  __shared__ MaxSum warp_results[32];
  __shared__ MaxSum total;
  for (int offset = 16; offset > 0; offset /= 2) {
    MaxSum o{__shfl_xor_sync(0xffffffffu, v.m, offset), __shfl_xor_sync(0xffffffffu, v.l, offset)};
    v = combine(v, o);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / 32;
    MaxSum w = lane < warps ? warp_results[lane] : MaxSum{-INFINITY, 0.0f};
    for (int offset = 16; offset > 0; offset /= 2) {
      MaxSum o{__shfl_xor_sync(0xffffffffu, w.m, offset), __shfl_xor_sync(0xffffffffu, w.l, offset)};
      w = combine(w, o);
    }
    if (lane == 0) total = w;
  }
  __syncthreads();
  return total;
}

// Offset of the first element of (item, q) in [B, Hq, Sq] row statistics.
__device__ std::int64_t stat_index(const RowKernelArgs& a, std::int64_t item, std::int64_t q) {
  const HeadItem it = item_head(item, a.batch, a.heads_q, a.heads_kv);
  return (it.b * a.heads_q + it.h) * a.seqlen_q + q;
}

// Calls f(k, allowed) for every key of the row, gaps and ranges alike, strided over the block.
template <class F>
__device__ void for_each_key(const RowKernelArgs& a, std::int64_t q, F&& f) {
  std::int64_t k = 0;
  for (std::int64_t r = a.row_ptr[q]; r < a.row_ptr[q + 1]; ++r) {
    const std::int64_t lo = a.bounds[2 * r], hi = a.bounds[2 * r + 1];
    for (std::int64_t x = k + threadIdx.x; x < lo; x += blockDim.x) f(x, false);
    for (std::int64_t x = lo + threadIdx.x; x < hi; x += blockDim.x) f(x, true);
    k = hi;
  }
  for (std::int64_t x = k + threadIdx.x; x < a.seqlen_k; x += blockDim.x) f(x, false);
}

// grid (seqlen_q, items): one block per row of one item.
template <class T>
__global__ void softmax_forward_kernel(RowKernelArgs a, const float* scores, T* probs, float* lse) {
  const std::int64_t q = blockIdx.x, local = blockIdx.y;
  const std::size_t row = (static_cast<std::size_t>(local) * a.seqlen_q + q) * a.seqlen_k;
  const float* s = scores + row;
  const float c = a.scale * kLog2e;
  MaxSum acc{-INFINITY, 0.0f};
  for (std::int64_t r = a.row_ptr[q]; r < a.row_ptr[q + 1]; ++r) {
    for (std::int64_t k = a.bounds[2 * r] + threadIdx.x; k < a.bounds[2 * r + 1]; k += blockDim.x) {
      acc = combine(acc, MaxSum{s[k] * c, 1.0f});
    }
  }
  const MaxSum t = block_reduce(acc);
  const bool empty = t.m == -INFINITY;
  const float inv = empty ? 0.0f : 1.0f / t.l;
  T* p = probs + row;
  for_each_key(a, q, [&](std::int64_t k, bool allowed) {
    p[k] = cast_from<T>(allowed && !empty ? exp2f(s[k] * c - t.m) * inv : 0.0f);
  });
  if (threadIdx.x == 0) {
    lse[stat_index(a, a.item0 + local, q)] = empty ? -INFINITY : (t.m + log2f(t.l)) * kLn2;
  }
}

template <class T>
__global__ void softmax_backward_kernel(RowKernelArgs a, const float* scores, const float* dprobs,
                                        const float* lse, const float* delta, T* probs, T* dscores) {
  const std::int64_t q = blockIdx.x, local = blockIdx.y;
  const std::size_t row = (static_cast<std::size_t>(local) * a.seqlen_q + q) * a.seqlen_k;
  const std::int64_t stat = stat_index(a, a.item0 + local, q);
  const float row_lse = lse[stat] * kLog2e;
  const float row_delta = delta[stat];
  const bool empty = row_lse == -INFINITY;
  const float c = a.scale * kLog2e;
  const float* s = scores + row;
  const float* dp = dprobs + row;
  T* p = probs + row;
  T* ds = dscores + row;
  for_each_key(a, q, [&](std::int64_t k, bool allowed) {
    const float pk = allowed && !empty ? exp2f(s[k] * c - row_lse) : 0.0f;
    p[k] = cast_from<T>(pk);
    ds[k] = cast_from<T>(pk * (dp[k] - row_delta));
  });
}

// One warp per (b, q, h) row; rows are numbered in [B, S, H] order.
template <class T>
__global__ void row_dot_kernel(const T* dout, const T* out, float* delta, std::int64_t rows,
                               std::int64_t seqlen_q, std::int64_t heads_q, std::int64_t head_dim) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowDotWarps + threadIdx.x / 32;
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const T* x = dout + row * head_dim;
  const T* y = out + row * head_dim;
  float sum = 0.0f;
  for (std::int64_t d = lane; d < head_dim; d += 32) sum += cast_to_float(x[d]) * cast_to_float(y[d]);
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  if (lane == 0) {
    const std::int64_t h = row % heads_q;
    const std::int64_t q = (row / heads_q) % seqlen_q;
    const std::int64_t b = row / (heads_q * seqlen_q);
    delta[(b * heads_q + h) * seqlen_q + q] = sum;
  }
}

dim3 row_grid(const RowKernelArgs& a) {
  return dim3(static_cast<unsigned>(a.seqlen_q), static_cast<unsigned>(a.items));
}

}  // namespace

template <class T>
void launch_softmax_forward(const RowKernelArgs& a, const float* scores, T* probs, float* lse,
                            cudaStream_t stream) {
  if (a.items == 0 || a.seqlen_q == 0) return;
  softmax_forward_kernel<T>
      <<<row_grid(a), row_kernel_threads(a.seqlen_k), 0, stream>>>(a, scores, probs, lse);
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void launch_softmax_backward(const RowKernelArgs& a, const float* scores, const float* dprobs,
                             const float* lse, const float* delta, T* probs, T* dscores,
                             cudaStream_t stream) {
  if (a.items == 0 || a.seqlen_q == 0) return;
  softmax_backward_kernel<T><<<row_grid(a), row_kernel_threads(a.seqlen_k), 0, stream>>>(
      a, scores, dprobs, lse, delta, probs, dscores);
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void launch_row_dot(const T* dout, const T* out, float* delta, std::int64_t batch, std::int64_t seqlen_q,
                    std::int64_t heads_q, std::int64_t head_dim, cudaStream_t stream) {
  const std::int64_t rows = batch * seqlen_q * heads_q;
  if (rows == 0) return;
  row_dot_kernel<T><<<static_cast<unsigned>(row_dot_blocks(rows)), kRowDotWarps * 32, 0, stream>>>(
      dout, out, delta, rows, seqlen_q, heads_q, head_dim);
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
}

#define ATTNBENCH_INSTANTIATE_ROW_KERNELS(T)                                                               \
  template void launch_softmax_forward<T>(const RowKernelArgs&, const float*, T*, float*, cudaStream_t);   \
  template void launch_softmax_backward<T>(const RowKernelArgs&, const float*, const float*, const float*, \
                                           const float*, T*, T*, cudaStream_t);                            \
  template void launch_row_dot<T>(const T*, const T*, float*, std::int64_t, std::int64_t, std::int64_t,    \
                                  std::int64_t, cudaStream_t);
ATTNBENCH_INSTANTIATE_ROW_KERNELS(float)
ATTNBENCH_INSTANTIATE_ROW_KERNELS(__nv_bfloat16)
ATTNBENCH_INSTANTIATE_ROW_KERNELS(__half)

}  // namespace attnbench::cuda::math
