// cpu.reference: the float64 oracle every backend and strategy is checked against.
#pragma once

#include <vector>

#include "attnbench/backend.hpp"

namespace attnbench::cpu {

// Forward in float64 for the whole problem: o [B,Sq,Hq,D], lse [B,Hq,Sq].
// Inputs are fp32 [B,S,H,D]; rows with no allowed key get o = 0, lse = -inf.
void reference_forward(const Problem&, const float* q, const float* k, const float* v,
                       std::vector<double>& o, std::vector<double>& lse);

// Backward in float64 given the forward's o and lse: dq [B,Sq,Hq,D], dk/dv [B,Sk,Hkv,D].
void reference_backward(const Problem&, const float* q, const float* k, const float* v,
                        const std::vector<double>& o, const std::vector<double>& lse,
                        const float* dout, std::vector<double>& dq, std::vector<double>& dk,
                        std::vector<double>& dv);

// The same arithmetic restricted to a chunk pair (used by CP strategies on CPU ranks).
class ReferenceChunkKernel final : public ChunkKernel {
 public:
  void forward(const ChunkTask&, const float* q, const float* k, const float* v, float* o,
               float* lse) const override;
  void backward(const ChunkTask&, const float* q, const float* k, const float* v, const float* o,
                const float* lse, const float* dout, float* dq, float* dk,
                float* dv) const override;
};

}  // namespace attnbench::cpu
