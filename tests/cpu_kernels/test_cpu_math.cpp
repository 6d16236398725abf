// cpu.math against cpu.reference on every mask; past the memory budget it reports OutOfMemory, not a crash.
#include <catch2/catch.hpp>

#include "attnbench/registry.hpp"
#include "harness/check.hpp"
#include "kernel_cases.hpp"
#include "masks/library.hpp"

namespace attnbench::test {

TEST_CASE("cpu.math equals the reference on every mask, forward and backward", "[cpu.math]") {
  std::mt19937_64 rng(31);
  const Pass passes[] = {Pass::fwd_bwd, Pass::fwd, Pass::bwd};
  int n = 0;
  for (const auto& info : mask_catalogue()) {
    for (int trial = 0; trial < 2; ++trial) {
      const KernelCase c = random_kernel_case(info.name, rng, 300, passes[n++ % 3]);
      MemoryTracker mem;
      const Outputs got = run_backend("cpu.math", c, mem);
      const CheckResult r = compare_outputs(got, reference_outputs(c), c.problem.pass, 1e-5, 1e-4);
      INFO(describe(c.problem) << " worst " << r.worst << " rel_l2 " << r.rel_l2_err);
      REQUIRE(r.passed);
      REQUIRE(mem.live() == 0);
    }
  }
}

TEST_CASE("cpu.math gives the same result on one and on two threads", "[cpu.math]") {
  const Shape s{.batch = 1, .heads_q = 4, .heads_kv = 2, .seqlen_q = 157, .seqlen_k = 157, .head_dim = 64};
  const KernelCase c = make_kernel_case("causal_document", {}, s, Pass::fwd_bwd, 11);
  MemoryTracker mem;
  const Outputs one = run_backend("cpu.math", c, mem, 1);
  const Outputs two = run_backend("cpu.math", c, mem, 2);
  const CheckResult r = compare_outputs(one, two, Pass::fwd_bwd, 1e-6, 1e-6);
  INFO("worst " << r.worst << " rel_l2 " << r.rel_l2_err);
  REQUIRE(r.passed);
}

TEST_CASE("cpu.math past the memory budget throws OutOfMemory while cpu.flash fits", "[cpu.math]") {
  const Shape s{.batch = 1, .heads_q = 1, .heads_kv = 1, .seqlen_q = 2048, .seqlen_k = 2048, .head_dim = 32};
  for (Pass pass : {Pass::fwd, Pass::bwd}) {
    const KernelCase c = make_kernel_case("causal", {}, s, pass, 2);
    // The 2048 x 2048 fp32 scores alone are 16 MiB; cpu.flash needs O(S * D).
    MemoryTracker mem(8u << 20);
    REQUIRE_THROWS_AS(run_backend("cpu.math", c, mem), OutOfMemory);
    REQUIRE(mem.live() == 0);  // nothing leaked by the failed prepare
    const Outputs got = run_backend("cpu.flash", c, mem);
    REQUIRE(mem.peak() <= (8u << 20));
    const CheckResult r = compare_outputs(got, reference_outputs(c), pass, 1e-5, 1e-4);
    REQUIRE(r.passed);
  }
}

}  // namespace attnbench::test
