// Mask → cuDNN SDPA arguments: diagonal bands, bottom-right alignment, documents as ragged batches.
#include "backends/cuda/cudnn_sdpa/cudnn_mask.hpp"

#include <algorithm>
#include <map>

namespace attnbench::cuda::cudnn_sdpa {

std::int64_t CudnnMaskArgs::max_segment_length() const {
  std::int64_t m = 0;
  for (std::int64_t len : segment_lengths) m = std::max(m, len);
  return m;
}

namespace {

// What each inexpressible mask of the library would need from cuDNN.
std::string missing_feature(const std::string& name) {
  static const std::map<std::string, std::string> needs = {
      {"share_question", "attention across documents to the shared question"},
      {"causal_blockwise", "attention from the last document to every earlier one"},
      {"prefix_lm_causal", "a bidirectional prefix inside a causal mask"},
      {"prefix_lm_document", "a bidirectional prefix inside each causal document"},
      {"global_sliding_window", "global tokens beside a sliding window"},
      {"streaming", "attention-sink keys beside a causal sliding window"},
      {"block_causal_document", "block-granular causality inside documents"},
      {"block_sparse", "a block-sparse mask"},
      {"var_block_sparse", "a variable-block sparse mask"},
      {"slices", "an arbitrary union of slices"},
  };
  auto it = needs.find(name);
  return it != needs.end() ? it->second : "an arbitrary element mask";
}

std::optional<std::int64_t> window_of(const Mask& m) {
  for (const auto& [key, value] : m.params()) {
    if (key == "window") return std::stoll(value);
  }
  return std::nullopt;
}

CudnnMaskMapping from_varlen(const VarlenForm& v) {
  CudnnMaskMapping out;
  CudnnMaskArgs& a = out.args;
  if (v.window_left >= 0) a.left_bound = v.window_left + 1;  // cuDNN's left bound is exclusive
  if (v.window_right >= 0) a.right_bound = v.window_right;
  std::vector<std::int64_t> starts, lengths;
  for (std::size_t i = 0; i + 1 < v.cu_seqlens.size(); ++i) {
    const std::int64_t len = v.cu_seqlens[i + 1] - v.cu_seqlens[i];
    if (len <= 0) continue;
    starts.push_back(v.cu_seqlens[i]);
    lengths.push_back(len);
  }
  if (starts.size() > 1) {
    a.segment_starts = std::move(starts);
    a.segment_lengths = std::move(lengths);
  }
  return out;
}

CudnnMaskMapping from_name(const Mask& m) {
  CudnnMaskMapping out;
  CudnnMaskArgs& a = out.args;
  const std::string& name = m.name();
  const bool fits = m.seqlen_q() <= m.seqlen_k();
  if (name == "full") return out;
  const bool band = name == "causal" || name == "sliding_window" || name == "causal_sliding_window";
  if (band && !fits) {
    out.support = Support::no("cudnn.sdpa: mask " + name +
                              " with seqlen_q > seqlen_k is not expressible in cuDNN SDPA "
                              "(its bottom-right diagonal needs seqlen_q <= seqlen_k)");
    return out;
  }
  a.bottom_right = true;
  if (name == "causal") {
    a.right_bound = 0;
    return out;
  }
  if (band) {
    const auto w = window_of(m);
    if (!w) {
      out.support = Support::no("cudnn.sdpa: mask " + name + " has no window parameter");
      return out;
    }
    a.left_bound = *w + 1;
    a.right_bound = name == "sliding_window" ? *w : 0;
    return out;
  }
  out.support = Support::no("cudnn.sdpa: mask " + name + " is not expressible in cuDNN SDPA (needs " +
                            missing_feature(name) + ")");
  return out;
}

}  // namespace

CudnnMaskMapping map_mask(const Mask& m) {
  if (m.varlen() && m.seqlen_q() == m.seqlen_k()) return from_varlen(*m.varlen());
  return from_name(m);
}

std::vector<std::int64_t> ragged_offsets(const CudnnMaskArgs& a, std::int64_t batch, std::int64_t seqlen,
                                         std::int64_t heads, std::int64_t head_dim) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(cudnn_batch(a, batch) + 1));
  const std::int64_t row = heads * head_dim;
  for (std::int64_t b = 0; b < batch; ++b) {
    if (!a.ragged()) {
      out.push_back(b * seqlen * row);
      continue;
    }
    for (std::int64_t start : a.segment_starts) out.push_back((b * seqlen + start) * row);
  }
  out.push_back(batch * seqlen * row);
  return out;
}

std::vector<std::int32_t> ragged_seq_lens(const CudnnMaskArgs& a, std::int64_t batch) {
  std::vector<std::int32_t> out;
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t len : a.segment_lengths) out.push_back(static_cast<std::int32_t>(len));
  }
  return out;
}

std::int64_t stats_elems(const CudnnMaskArgs& a, std::int64_t batch, std::int64_t heads,
                         std::int64_t seqlen_q) {
  return cudnn_batch(a, batch) * heads * (a.ragged() ? a.max_segment_length() : seqlen_q);
}

std::vector<float> stats_to_lse(const CudnnMaskArgs& a, std::int64_t batch, std::int64_t heads,
                                std::int64_t seqlen, const std::vector<float>& stats) {
  if (!a.ragged()) return stats;
  std::vector<float> lse(static_cast<std::size_t>(batch * heads * seqlen), 0.0f);
  const std::int64_t m = a.max_segment_length();
  const std::int64_t nseg = a.segments();
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t i = 0; i < nseg; ++i) {
      const std::int64_t entry = b * nseg + i;
      for (std::int64_t h = 0; h < heads; ++h) {
        const float* src = stats.data() + (entry * heads + h) * m;
        float* dst = lse.data() + (b * heads + h) * seqlen + a.segment_starts[i];
        std::copy(src, src + a.segment_lengths[i], dst);
      }
    }
  }
  return lse;
}

}  // namespace attnbench::cuda::cudnn_sdpa
