// Kernel arguments and launch entry points of cuda.flash (plain C++, included by the host backend).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "attnbench/types.hpp"

namespace attnbench::cuda::flash {

// Tensors are [B, S, H, D] in the case's 16-bit dtype; lse is [B, Hq, Sq] fp32 natural log.
struct Dims {
  int batch = 1, heads_q = 1, heads_kv = 1, seqlen_q = 0, seqlen_k = 0;
};

// A schedule uploaded to the device (see schedule.hpp).
struct DeviceSchedule {
  const std::int32_t* begin = nullptr;
  const std::int32_t* tiles = nullptr;
  const std::int32_t* mask_slot = nullptr;
  const std::uint32_t* bits = nullptr;
  int outer_tiles = 0;
};

struct ForwardArgs {
  Dims dims;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* o = nullptr;
  float* lse = nullptr;
  float scale_log2 = 0.0f;  // softmax_scale * log2(e)
  DeviceSchedule schedule;  // query-major, ForwardTile sizes
};

struct BackwardArgs {
  Dims dims;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const void* o = nullptr;
  const void* dout = nullptr;
  const float* lse = nullptr;
  float* delta = nullptr;     // workspace [B, Hq, Sq]: rowsum(dO * O)
  float* dq_accum = nullptr;  // workspace [B, Sq, Hq, D] fp32, zeroed by launch_backward
  void* dq = nullptr;
  void* dk = nullptr;
  void* dv = nullptr;
  float scale = 0.0f;
  float scale_log2 = 0.0f;
  DeviceSchedule schedule;  // key-major, BackwardTile sizes
};

// dtype ∈ {bf16, fp16}, head_dim ∈ {64, 128}; anything else throws std::invalid_argument.
// warp_rows: query rows per warp of the forward, 16 (any head dim) or 32 (head dim 128).
void launch_forward(DType, int head_dim, int warp_rows, const ForwardArgs&, cudaStream_t);
void launch_backward(DType, int head_dim, const BackwardArgs&, cudaStream_t);

}  // namespace attnbench::cuda::flash
