// Plan keys of cudnn.sdpa: built from a problem and its cuDNN mask arguments.
#include "backends/cuda/cudnn_sdpa/plan_key.hpp"

#include <cstdio>

#include "backends/cuda/common/softmax_scale.hpp"

namespace attnbench::cuda::cudnn_sdpa {

std::string PlanKey::to_string() const {
  char scale_text[32];
  std::snprintf(scale_text, sizeof scale_text, "%.9g", static_cast<double>(scale));
  return std::string(backward ? "bwd" : "fwd") + " " + std::string(attnbench::to_string(dtype)) + " b" +
         std::to_string(batch) + " hq" + std::to_string(heads_q) + " hkv" + std::to_string(heads_kv) + " sq" +
         std::to_string(seqlen_q) + " sk" + std::to_string(seqlen_k) + " d" + std::to_string(head_dim) +
         " s" + scale_text + " l" + std::to_string(left_bound) + " r" + std::to_string(right_bound) +
         (bottom_right ? " br" : " tl") + (ragged ? " ragged" : " dense");
}

PlanKey make_plan_key(const Problem& p, const CudnnMaskArgs& a, bool backward) {
  const Shape& s = p.shape;
  PlanKey k;
  k.backward = backward;
  k.dtype = p.dtype;
  k.batch = cudnn_batch(a, s.batch);
  k.heads_q = s.heads_q;
  k.heads_kv = s.heads_kv;
  k.seqlen_q = a.ragged() ? a.max_segment_length() : s.seqlen_q;
  k.seqlen_k = a.ragged() ? a.max_segment_length() : s.seqlen_k;
  k.head_dim = s.head_dim;
  k.scale = static_cast<float>(softmax_scale_or_default(p.softmax_scale, s.head_dim));
  k.left_bound = a.left_bound.value_or(-1);
  k.right_bound = a.right_bound.value_or(-1);
  k.bottom_right = a.bottom_right;
  k.ragged = a.ragged();
  return k;
}

}  // namespace attnbench::cuda::cudnn_sdpa
