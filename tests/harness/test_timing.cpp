// The stopping rules: converged, max_iters and timeout each stop the loop and say so.
#include <catch2/catch.hpp>

#include "harness/timing.hpp"

using namespace attnbench;

TEST_CASE("a steady iteration converges after min_iters and min_time", "[timing]") {
  TimingConfig cfg{1, 4, 100, 0.004, 5.0, 10.0};
  int calls = 0;
  const TimingResult r = measure(cfg, [&] {
    ++calls;
    return IterationTime{0.001};
  });
  CHECK(r.stop_reason == "converged");
  CHECK(r.seconds.size() == 4);  // 4 iterations reach both 4 iters and 4 ms
  CHECK(calls == 5);             // plus one warm-up
}

TEST_CASE("a noisy iteration stops at max_iters", "[timing]") {
  TimingConfig cfg{0, 2, 7, 0.0, 1.0, 10.0};
  int i = 0;
  const TimingResult r = measure(cfg, [&] { return IterationTime{(i++ % 2) ? 0.001 : 0.003}; });
  CHECK(r.stop_reason == "max_iters");
  CHECK(r.seconds.size() == 7);
}

TEST_CASE("the timeout stops a slow case", "[timing]") {
  TimingConfig cfg{0, 1000, 100000, 100.0, 0.0, 0.05};
  const TimingResult r = measure(cfg, [] {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(10)) {
    }
    return IterationTime{0.01};
  });
  CHECK(r.stop_reason == "timeout");
  CHECK(r.seconds.size() < 20);
}
