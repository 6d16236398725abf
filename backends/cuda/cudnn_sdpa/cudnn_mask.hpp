// Which masks cuDNN's fused SDPA expresses natively, and the arguments that express them (host-side, no
// cuDNN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/mask.hpp"

namespace attnbench::cuda::cudnn_sdpa {

// A mask in cuDNN SDPA's terms. cuDNN keeps (q, k) when q - k < left_bound
// (if set) and k - q <= right_bound (if set), with k shifted by Sk - Sq when the
// diagonal is bottom-right aligned. Document masks become ragged batches: one
// cuDNN batch entry per segment (packed THD layout with ragged offsets and a
// padding mask), the bounds then apply inside each segment.
struct CudnnMaskArgs {
  std::optional<std::int64_t> left_bound;
  std::optional<std::int64_t> right_bound;
  bool bottom_right = false;
  std::vector<std::int64_t> segment_starts;   // ragged only: start of each segment
  std::vector<std::int64_t> segment_lengths;  // ragged only: its length (> 0)

  bool ragged() const { return !segment_lengths.empty(); }
  std::int64_t segments() const { return ragged() ? static_cast<std::int64_t>(segment_lengths.size()) : 1; }
  std::int64_t max_segment_length() const;
};

struct CudnnMaskMapping {
  Support support;     // ok, or why cuDNN cannot express the mask
  CudnnMaskArgs args;  // meaningful when support.ok
};

// From Mask::varlen() (cu_seqlens + window, Sq == Sk), or from the mask's name and
// window for full / causal / sliding windows with Sq != Sk (bottom-right aligned,
// needs Sq <= Sk). Everything else: Support::no("cudnn.sdpa: mask X is not expressible ...").
CudnnMaskMapping map_mask(const Mask&);

// cuDNN batch entries of a case: batch × segments.
inline std::int64_t cudnn_batch(const CudnnMaskArgs& a, std::int64_t batch) { return batch * a.segments(); }

// Ragged offsets (in elements) of the packed [B, S, H, D] tensor for each cuDNN
// batch entry, plus the total at the end: (b * S + start_i) * H * D.
std::vector<std::int64_t> ragged_offsets(const CudnnMaskArgs&, std::int64_t batch, std::int64_t seqlen,
                                         std::int64_t heads, std::int64_t head_dim);

// Sequence length of each cuDNN batch entry (the segment lengths, repeated per batch).
std::vector<std::int32_t> ragged_seq_lens(const CudnnMaskArgs&, std::int64_t batch);

// cuDNN's softmax statistics [B', H, max_segment] (natural-log LSE) back to the
// harness's LSE layout [B, H, S]. Dense cases have the same layout and are copied.
std::vector<float> stats_to_lse(const CudnnMaskArgs&, std::int64_t batch, std::int64_t heads,
                                std::int64_t seqlen, const std::vector<float>& stats);

// Number of fp32 statistics cuDNN writes: B' × H × (max segment or Sq).
std::int64_t stats_elems(const CudnnMaskArgs&, std::int64_t batch, std::int64_t heads, std::int64_t seqlen_q);

}  // namespace attnbench::cuda::cudnn_sdpa
