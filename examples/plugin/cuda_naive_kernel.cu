// example.cuda_naive's kernel: one thread per (batch, head, query row), online softmax over the row's key
// ranges.
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "cuda_naive_kernel.hpp"

namespace example::cuda {

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

__global__ void forward_kernel(ForwardArgs a) {
  const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= a.batch * a.heads_q * a.seqlen_q) return;
  const std::int64_t i = idx % a.seqlen_q;
  const std::int64_t h = (idx / a.seqlen_q) % a.heads_q;
  const std::int64_t b = idx / (a.seqlen_q * a.heads_q);
  const std::int64_t hk = h / (a.heads_q / a.heads_kv);
  const std::int64_t D = a.head_dim;
  const float* qi = a.q + ((b * a.seqlen_q + i) * a.heads_q + h) * D;
  float* oi = a.o + ((b * a.seqlen_q + i) * a.heads_q + h) * D;

  float acc[max_head_dim];
  for (std::int64_t d = 0; d < D; ++d) acc[d] = 0.0f;
  float m = -INFINITY, l = 0.0f;
  for (std::int64_t r = a.row_ptr[i]; r < a.row_ptr[i + 1]; ++r)
    for (std::int64_t j = a.range_lo[r]; j < a.range_hi[r]; ++j) {
      const float* kj = a.k + ((b * a.seqlen_k + j) * a.heads_kv + hk) * D;
      const float* vj = a.v + ((b * a.seqlen_k + j) * a.heads_kv + hk) * D;
      float s = 0.0f;
      for (std::int64_t d = 0; d < D; ++d) s += qi[d] * kj[d];
      s *= a.scale;
      // Online softmax: rescale what was accumulated under the old maximum.
      const float m_new = fmaxf(m, s);
      const float correction = expf(m - m_new);
      const float p = expf(s - m_new);
      l = l * correction + p;
      for (std::int64_t d = 0; d < D; ++d) acc[d] = acc[d] * correction + p * vj[d];
      m = m_new;
    }
  float* lse_i = a.lse + (b * a.heads_q + h) * a.seqlen_q + i;
  if (l == 0.0f) {  // no allowed key: O = 0, LSE = -inf
    for (std::int64_t d = 0; d < D; ++d) oi[d] = 0.0f;
    *lse_i = -INFINITY;
    return;
  }
  for (std::int64_t d = 0; d < D; ++d) oi[d] = acc[d] / l;
  *lse_i = m + logf(l);
}

void launch(const ForwardArgs& a) {
  const std::int64_t threads = a.batch * a.heads_q * a.seqlen_q;
  const int block = 128;
  forward_kernel<<<static_cast<unsigned>((threads + block - 1) / block), block>>>(a);
  check(cudaGetLastError(), "forward_kernel launch");
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" error
    return 0;
  }
  return n;
}

void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  check(e, "cudaMalloc");
  return p;
}

void device_free(void* p) noexcept { cudaFree(p); }

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}

void forward(const ForwardArgs& a) {
  launch(a);
  check(cudaDeviceSynchronize(), "forward_kernel");
}

double forward_timed(const ForwardArgs& a) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  cudaEventRecord(start);
  launch(a);
  cudaEventRecord(stop);
  const cudaError_t e = cudaEventSynchronize(stop);
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  check(e, "forward_kernel");
  return ms * 1e-3;
}

}  // namespace example::cuda
