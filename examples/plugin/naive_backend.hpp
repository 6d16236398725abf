// example.naive: a plain fp32 CPU attention (forward and backward) over the mask's row ranges.
#pragma once

#include <attnbench/backend.hpp>

#include <memory>

namespace example {

// Forward for the whole problem: o [B,Sq,Hq,D], lse [B,Hq,Sq]; a row with no allowed key gets o = 0, lse =
// -inf.
void naive_forward(const attnbench::Problem&, const float* q, const float* k, const float* v, float* o,
                   float* lse);

// Backward given the forward's o and lse: dq [B,Sq,Hq,D], dk and dv [B,Sk,Hkv,D] (overwritten).
void naive_backward(const attnbench::Problem&, const float* q, const float* k, const float* v, const float* o,
                    const float* lse, const float* dout, float* dq, float* dk, float* dv);

std::shared_ptr<attnbench::Backend> make_naive_backend();

}  // namespace example
