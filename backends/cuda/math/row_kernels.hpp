// Launchers of cuda.math's row kernels (masked softmax forward/backward, dO·O row dot); kernels in
// row_kernels.cu.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace attnbench::cuda::math {

// One pass over items [item0, item0 + items): the score buffers hold one
// seqlen_q × seqlen_k row-major matrix per item, in item order.
struct RowKernelArgs {
  const std::int64_t* row_ptr = nullptr;  // device, MaskRows::row_ptr
  const std::int32_t* bounds = nullptr;   // device, MaskRows::bounds
  std::int64_t seqlen_q = 0, seqlen_k = 0;
  std::int64_t batch = 1, heads_q = 1, heads_kv = 1;
  std::int64_t item0 = 0, items = 0;
  float scale = 1.0f;  // softmax scale applied to the raw scores
};

// probs = softmax(scale * scores) over each row's allowed keys (0 elsewhere),
// lse[b, h, q] = natural-log log-sum-exp of the scaled allowed scores; a row
// with no allowed key gets probs 0 and lse -inf. T: float, __nv_bfloat16, __half.
template <class T>
void launch_softmax_forward(const RowKernelArgs&, const float* scores, T* probs, float* lse, cudaStream_t);

// From recomputed probabilities p = exp(scale * scores - lse) on allowed keys:
// probs = p and dscores = p * (dprobs - delta[b, h, q]); 0 outside the mask.
template <class T>
void launch_softmax_backward(const RowKernelArgs&, const float* scores, const float* dprobs, const float* lse,
                             const float* delta, T* probs, T* dscores, cudaStream_t);

// delta[b, h, q] = sum_d dout[b, q, h, d] * out[b, q, h, d] in fp32 ([B, S, H, D] inputs).
template <class T>
void launch_row_dot(const T* dout, const T* out, float* delta, std::int64_t batch, std::int64_t seqlen_q,
                    std::int64_t heads_q, std::int64_t head_dim, cudaStream_t);

}  // namespace attnbench::cuda::math
