// The stopping rules: converged, max_iters or timeout, whichever comes first.
#include "harness/timing.hpp"

#include <chrono>

#include "harness/stats.hpp"

namespace attnbench {

TimingResult measure(const TimingConfig& cfg, const std::function<IterationTime()>& iteration) {
  for (int i = 0; i < cfg.warmup; ++i) iteration();
  TimingResult r;
  const auto start = std::chrono::steady_clock::now();
  double measured = 0;
  while (true) {
    const IterationTime t = iteration();
    r.seconds.push_back(t.seconds);
    r.compute_seconds.push_back(t.compute_seconds);
    r.comm_seconds.push_back(t.comm_seconds);
    measured += t.seconds;
    const int n = static_cast<int>(r.seconds.size());
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (n >= cfg.min_iters && measured >= cfg.min_time_s &&
        relative_noise(r.seconds) * 100.0 <= cfg.max_noise_pct) {
      r.stop_reason = "converged";
      break;
    }
    if (n >= cfg.max_iters) {
      r.stop_reason = "max_iters";
      break;
    }
    if (wall >= cfg.timeout_s) {  // at least one timed iteration is kept
      r.stop_reason = "timeout";
      break;
    }
  }
  return r;
}

}  // namespace attnbench
