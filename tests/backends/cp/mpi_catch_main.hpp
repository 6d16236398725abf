// The body of main() for the MPI Catch2 tests (CP, model): one Catch session per rank inside MPI.
#pragma once

#include <catch2/catch.hpp>

#include "attnbench/comm.hpp"
#include "harness/comm/world.hpp"

namespace attnbench::test {

// Runs the Catch session on this rank and returns the worst exit code over all ranks, so the
// job fails if any rank failed (one rank's failed CHECK must not pass unnoticed).
inline int run_catch_on_every_rank(int argc, char** argv) {
  comm::init_world(&argc, &argv);
  const int failed = Catch::Session().run(argc, argv);
  double worst = failed;
  comm::world().allreduce(&worst, 1, ReduceOp::max);
  comm::finalize_world();
  return static_cast<int>(worst);
}

}  // namespace attnbench::test
