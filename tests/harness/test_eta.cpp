// The progress line's ETA model: per (backend, pass) fits of time against FLOPs, and its fallbacks.
#include <catch2/catch.hpp>

#include "harness/eta.hpp"

using attnbench::EtaModel;

TEST_CASE("ETA: a per-case cost plus a rate, fitted per backend and pass", "[eta]") {
  EtaModel m;
  CHECK(m.empty());
  // cpu.flash fwd: 0.5 s per case + 1 s per GFLOP
  m.add("cpu.flash fwd", 1e9, 1.5);
  m.add("cpu.flash fwd", 3e9, 3.5);
  CHECK_FALSE(m.empty());
  CHECK(m.predict("cpu.flash fwd", 2.25e9) == Approx(2.75));  // 2.25x the FLOPs, not the mean 2.5 s
  // Cases left are priced per group at once: the sum of their single predictions.
  CHECK(m.predict("cpu.flash fwd", 2.25e9 + 4e9, 2) ==
        Approx(m.predict("cpu.flash fwd", 2.25e9) + m.predict("cpu.flash fwd", 4e9)));
  // One point: proportional to FLOPs.
  m.add("cpu.reference fwd", 1e9, 10);
  CHECK(m.predict("cpu.reference fwd", 2e9) == Approx(20));
  // An unseen pass of a seen backend: the backend's points, all passes.
  CHECK(m.predict("cpu.reference bwd", 2.5e9) == Approx(25));
  // An unseen backend: every point (t = a + r*w over all of them), never 0.
  CHECK(m.predict("cpu.math fwd", 1e9) > 0);
}

TEST_CASE("ETA: noise and missing FLOPs fall back to the mean", "[eta]") {
  EtaModel m;
  m.add("b fwd", 1e9, 4);
  m.add("b fwd", 2e9, 2);  // more work, less time (a stall): no negative rate
  CHECK(m.predict("b fwd", 10e9) == Approx(3));
  EtaModel z;
  z.add("b fwd", 0, 2);
  z.add("b fwd", 0, 4);
  CHECK(z.predict("b fwd", 0) == Approx(3));
  // Equal works: proportional, which is the mean here.
  EtaModel e;
  e.add("b bwd", 1e9, 1);
  e.add("b bwd", 1e9, 3);
  CHECK(e.predict("b bwd", 1e9) == Approx(2));
  CHECK(e.predict("b bwd", 2e9) == Approx(4));
  CHECK(attnbench::eta_backend_of("cpu.flash bwd") == "cpu.flash");
}
