// The CUDA side of example.cuda_naive, behind a plain C++ interface (no CUDA types leak into the .cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace example::cuda {

// One forward problem on the device. The mask arrives as per-row key ranges in
// CSR form: row i attends keys [range_lo[r], range_hi[r]) for r in [row_ptr[i], row_ptr[i+1]).
struct ForwardArgs {
  std::int64_t batch = 1, heads_q = 1, heads_kv = 1, seqlen_q = 0, seqlen_k = 0, head_dim = 0;
  float scale = 1.0f;
  const float *q = nullptr, *k = nullptr, *v = nullptr;  // [B, S, H, D]
  float *o = nullptr, *lse = nullptr;                    // [B, Sq, Hq, D], [B, Hq, Sq]
  const std::int64_t *row_ptr = nullptr, *range_lo = nullptr, *range_hi = nullptr;
};

// Largest head dim the kernel's per-thread accumulator holds.
constexpr std::int64_t max_head_dim = 256;

// Number of usable devices; 0 when there is no device or no driver (never throws).
int device_count();

// nullptr when the device is out of memory; throws std::runtime_error on other errors.
void* device_alloc(std::size_t bytes);
void device_free(void* p) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes);
void copy_to_host(void* dst, const void* src, std::size_t bytes);

// Runs the forward and waits for it.
void forward(const ForwardArgs&);
// Runs the forward once between two CUDA events and returns the elapsed seconds.
double forward_timed(const ForwardArgs&);

}  // namespace example::cuda
