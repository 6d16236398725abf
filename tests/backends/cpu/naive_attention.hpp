// A naive float64 attention loop, written apart from cpu.reference, for the tests that check the
// reference itself: dense P per (batch, query head) from that (batch, head)'s mask, forward and backward.
#pragma once

#include "kernel_cases.hpp"

namespace attnbench::test {

// O and LSE, and dQ, dK, dV when the case's pass has a backward, in float64 rounded to fp32.
Outputs naive(const KernelCase&);

}  // namespace attnbench::test
