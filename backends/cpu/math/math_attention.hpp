// cpu.math arithmetic: the whole score matrix of one (batch, head) in memory, GEMMs by OpenBLAS sgemm.
#pragma once

#include <cstddef>

#include "attnbench/problem.hpp"

namespace attnbench::cpu::math {

// Each OpenMP thread owns a block of query rows and calls single-threaded sgemm on
// it, so OpenBLAS's own thread pool never competes with the softmax threads.

// Forward: o [B,Sq,Hq,D], lse [B,Hq,Sq]; `scores` holds Sq*Sk floats.
void forward(const Problem&, const float* q, const float* k, const float* v, float* o, float* lse,
             float* scores, int threads);

// Floats of per-thread dK/dV partial sums the backward needs.
std::size_t backward_partials(const Problem&, int threads);

// Backward from the forward's o and lse; `scores` and `dscores` hold Sq*Sk floats
// each, `partials` backward_partials() floats.
void backward(const Problem&, const float* q, const float* k, const float* v, const float* o,
              const float* lse, const float* dout, float* dq, float* dk, float* dv,
              float* scores, float* dscores, float* partials, int threads);

}  // namespace attnbench::cpu::math
