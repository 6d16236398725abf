// cpu.math arithmetic, as PyTorch's math SDPA does it: the scores of every (batch, head) in memory, one pass
// per op.
#pragma once

#include <cstddef>

#include "attnbench/problem.hpp"

namespace attnbench::cpu::math {

// Floats of each [B, Hq, Sq, Sk] score tensor and of the additive mask: [Sq, Sk], or [B, Hq, Sq, Sk]
// when the mask differs per (batch, head).
std::size_t score_elems(const Problem&);
std::size_t mask_elems(const Problem&);

// The additive float mask (0 where allowed, -inf elsewhere) that PyTorch builds from a boolean mask.
void build_additive_mask(const Problem&, float* mask, int threads);

// Forward: attn = Q K^T * scale; attn += mask; P = safe_softmax(attn); O = P V.
// o [B,Sq,Hq,D], lse [B,Hq,Sq]; probs keeps P (autograd saves it for the backward).
void forward(const Problem&, const float* q, const float* k, const float* v, const float* mask, float* probs,
             float* o, float* lse, int threads);

// Backward as autograd runs it from the saved P: dP = dO V^T, dS = P (dP - rowsum(dP P)) * scale,
// dQ = dS K, dK = dS^T Q, dV = P^T dO (summed over the query heads of a KV group).
void backward(const Problem&, const float* q, const float* k, const float* v, const float* probs,
              const float* dout, float* dprobs, float* dq, float* dk, float* dv, int threads);

}  // namespace attnbench::cpu::math
