// Random attention cases for the CPU kernel tests: a mask of the catalogue, a shape, inputs, the float64
// reference.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "attnbench/backend.hpp"

namespace attnbench::test {

// Heads and head dims of a case: query, key and value heads, D and Dv.
struct Heads {
  std::int64_t hq, hk, hv, d, dv;
};
Shape shape_of(const Heads&, std::int64_t batch, std::int64_t sq, std::int64_t sk);

struct KernelCase {
  Problem problem;
  Inputs inputs;
};

// A random case of mask `name` with Sq, Sk <= max_seqlen (odd lengths and Sq != Sk
// where the mask allows it), B in {1, 2}, GQA group in {1, 2}, D in {8, 64, 128}.
KernelCase random_kernel_case(const std::string& mask, std::mt19937_64& rng, std::int64_t max_seqlen,
                              Pass pass);

// A case with a given mask spec and shape.
KernelCase make_kernel_case(const std::string& mask, const std::map<std::string, std::string>& params,
                            Shape shape, Pass pass, std::uint64_t seed);

// cpu.reference's outputs (float64, rounded to fp32) for the pass.
Outputs reference_outputs(const KernelCase&);

// Runs a registered backend through prepare/run/fetch_outputs.
Outputs run_backend(const std::string& backend, const KernelCase&, MemoryTracker&, int threads = 0);

// REQUIRE that `got` equals `want` for the case's pass (compare_outputs, rel L2 1e-5, abs 1e-4),
// naming `who` and the case on failure.
void require_outputs_close(const Outputs& got, const Outputs& want, const KernelCase&,
                           const std::string& who);

// For the capability tests of optional features: a backend that declares fp32 and nothing optional,
// and a small causal problem (B 1, H 2, S 16, D 8) it accepts before the feature is added.
BackendInfo plain_backend_info(const std::string& name);
Problem small_causal_problem();

// Every registered CP strategy (at world size 2, over cpu.flash) refuses the problem with a reason
// containing `reason_part`, and there are at least the six built-in ones.
void require_strategies_refuse(const Problem&, const std::string& reason_part);

// "causal_document {..} B2 Hq4/2 Sq=123 Sk=123 D=64" for failure messages.
std::string describe(const Problem&);

}  // namespace attnbench::test
