// The key under which cudnn.sdpa caches built cuDNN graphs: everything a graph's build depends on.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "attnbench/problem.hpp"
#include "backends/cuda/cudnn_sdpa/cudnn_mask.hpp"

namespace attnbench::cuda::cudnn_sdpa {

// Two cases with equal keys can execute the same built graph: shapes are
// cuDNN's (batch entries × segment capacity for ragged cases), and runtime data
// (pointers, ragged offsets, sequence lengths) is not part of it.
struct PlanKey {
  bool backward = false;
  DType dtype = DType::bf16;
  std::int64_t batch = 0;  // cuDNN batch entries
  std::int64_t heads_q = 0, heads_kv = 0;
  std::int64_t seqlen_q = 0, seqlen_k = 0;  // per batch entry (max segment when ragged)
  std::int64_t head_dim = 0;
  float scale = 0.0f;
  std::int64_t left_bound = -1, right_bound = -1;  // -1: unset
  bool bottom_right = false;
  bool ragged = false;

  auto operator<=>(const PlanKey&) const = default;
  // Readable and unique, e.g. "fwd bf16 b1 hq8 hkv2 sq512 sk512 d64 s0.125 l-1 r0 tl dense".
  std::string to_string() const;
};

PlanKey make_plan_key(const Problem&, const CudnnMaskArgs&, bool backward);

}  // namespace attnbench::cuda::cudnn_sdpa
