// cpu.reference: the float64 oracle every backend and strategy is checked against.
#pragma once

#include "attnbench/backend.hpp"

namespace attnbench::cpu {

// Forward in float64 for the whole problem. Inputs fp32 [B,S,H,D]; o [B,Sq,Hq,D],
// lse [B,Hq,Sq]; rows with no allowed key get o = 0, lse = -inf.
void reference_forward(const Problem&, const float* q, const float* k, const float* v, double* o,
                       double* lse);

// Backward in float64 given the forward's o and lse: dq [B,Sq,Hq,D], dk/dv [B,Sk,Hkv,D].
void reference_backward(const Problem&, const float* q, const float* k, const float* v, const double* o,
                        const double* lse, const float* dout, double* dq, double* dk, double* dv);

// The same arithmetic on a chunk pair under the global mask (CP strategies on CPU ranks).
class ReferenceChunkKernel final : public ChunkKernel {
 public:
  void forward(const ChunkTask&, const float* q, const float* k, const float* v, float* o,
               float* lse) const override;
  void backward(const ChunkTask&, const float* q, const float* k, const float* v, const float* o,
                const float* lse, const float* dout, float* dq, float* dk, float* dv) const override;
};

}  // namespace attnbench::cpu
