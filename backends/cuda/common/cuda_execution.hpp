// Base of every CUDA execution: its own stream, CUDA-event timing, optional L2 flush before each iteration.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "attnbench/backend.hpp"

namespace attnbench::cuda {

// Whether a case asks for the L2 flush: option "l2_flush" (true/false/1/0/yes/no; default true).
// Throws InputError for another value.
bool l2_flush_option(const Problem& p);

// A CUDA execution enqueues its work on stream() in run() without synchronising;
// timed_run() measures one run() with events and returns the GPU time in seconds.
class CudaExecution : public Execution {
 public:
  explicit CudaExecution(bool flush_l2 = true);
  ~CudaExecution() override;
  CudaExecution(const CudaExecution&) = delete;
  CudaExecution& operator=(const CudaExecution&) = delete;

  // flush L2 (memset of a buffer larger than L2, before the start event) →
  // start event → run() → stop event → synchronise → elapsed time.
  IterationTime timed_run() override;

  cudaStream_t stream() const noexcept { return stream_; }
  void set_flush_l2(bool on) noexcept { flush_l2_ = on; }
  // Waits for everything enqueued on the stream (use before fetching outputs).
  void synchronize();

 private:
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
  bool flush_l2_ = true;
};

// Bytes of the process-wide L2 flush buffer for a device with `l2_bytes` of L2:
// twice the L2 (replacement is not strict LRU), at least 1 MiB.
std::size_t l2_flush_bytes(std::size_t l2_bytes);

// Overwrites the L2 by a memset of the process-wide flush buffer on `stream`;
// the buffer is allocated on first use and kept for the process (harness
// overhead, not charged to any case).
void flush_l2_cache(cudaStream_t stream);

}  // namespace attnbench::cuda
