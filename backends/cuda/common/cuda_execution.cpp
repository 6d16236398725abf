// CudaExecution: stream, events and the once-per-process L2 flush buffer.
#include "backends/cuda/common/cuda_execution.hpp"

#include <algorithm>
#include <mutex>

#include "backends/cuda/common/cuda_check.hpp"

namespace attnbench::cuda {

bool l2_flush_option(const Problem& p) {
  const std::string v = p.option("l2_flush", "true");
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw InputError("option l2_flush: '" + v + "' is not a boolean (accepted: true, false)");
}

std::size_t l2_flush_bytes(std::size_t l2_bytes) {
  return std::max<std::size_t>(2 * l2_bytes, std::size_t{1} << 20);
}

namespace {
struct FlushBuffer {
  void* data = nullptr;
  std::size_t bytes = 0;
};

FlushBuffer& flush_buffer() {
  static std::once_flag once;
  static FlushBuffer buffer;
  std::call_once(once, [] {
    int device = 0;
    ATTNBENCH_CUDA_CHECK(cudaGetDevice(&device));
    int l2 = 0;
    ATTNBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    buffer.bytes = l2_flush_bytes(static_cast<std::size_t>(l2));
    ATTNBENCH_CUDA_CHECK(cudaMalloc(&buffer.data, buffer.bytes));
  });
  return buffer;
}
}  // namespace

void flush_l2_cache(cudaStream_t stream) {
  FlushBuffer& b = flush_buffer();
  ATTNBENCH_CUDA_CHECK(cudaMemsetAsync(b.data, 0, b.bytes, stream));
}

CudaExecution::CudaExecution(bool flush_l2) : flush_l2_(flush_l2) {
  ATTNBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  ATTNBENCH_CUDA_CHECK(cudaEventCreate(&start_));
  ATTNBENCH_CUDA_CHECK(cudaEventCreate(&stop_));
}

CudaExecution::~CudaExecution() {
  if (stream_ != nullptr) ATTNBENCH_CUDA_CHECK_NOTHROW(cudaStreamSynchronize(stream_));
  if (start_ != nullptr) ATTNBENCH_CUDA_CHECK_NOTHROW(cudaEventDestroy(start_));
  if (stop_ != nullptr) ATTNBENCH_CUDA_CHECK_NOTHROW(cudaEventDestroy(stop_));
  if (stream_ != nullptr) ATTNBENCH_CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream_));
}

void CudaExecution::synchronize() { ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

IterationTime CudaExecution::timed_run() {
  if (flush_l2_) flush_l2_cache(stream_);
  ATTNBENCH_CUDA_CHECK(cudaEventRecord(start_, stream_));
  run();
  ATTNBENCH_CUDA_CHECK(cudaEventRecord(stop_, stream_));
  ATTNBENCH_CUDA_CHECK(cudaEventSynchronize(stop_));
  // A kernel fault inside run() surfaces here, with the failing launch unknown.
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
  float ms = 0.0f;
  ATTNBENCH_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return {static_cast<double>(ms) * 1e-3};
}

}  // namespace attnbench::cuda
