// The stopping rules: converged, max_iters or timeout, whichever comes first.
#include "harness/timing.hpp"

#include <chrono>

#include "harness/instructions.hpp"
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
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.stop_reason = stop_rule(cfg, r.seconds, measured, wall);
    if (!r.stop_reason.empty()) break;
  }
  return r;
}

TimingResult measure_counted(const TimingConfig& cfg, InstructionCounter& counter,
                             const std::function<IterationTime()>& iteration) {
  for (int i = 0; i < cfg.warmup; ++i) iteration();
  TimingResult r;
  r.counter = counter.name();
  r.stop_reason = "counted";
  counter.start();  // one region: callgrind's dump per region is the slow part
  for (int i = 0; i < cfg.min_iters; ++i) {
    const IterationTime t = iteration();
    r.seconds.push_back(t.seconds);
    r.compute_seconds.push_back(t.compute_seconds);
    r.comm_seconds.push_back(t.comm_seconds);
  }
  r.instructions = counter.stop() / static_cast<double>(r.seconds.size());
  return r;
}

std::string stop_rule(const TimingConfig& cfg, const std::vector<double>& seconds, double measured_s,
                      double wall_s) {
  const int n = static_cast<int>(seconds.size());
  if (n >= cfg.min_iters && measured_s >= cfg.min_time_s &&
      relative_noise(seconds) * 100.0 <= cfg.max_noise_pct)
    return "converged";
  if (n >= cfg.max_iters) return "max_iters";
  if (wall_s >= cfg.timeout_s) return "timeout";  // callers ask after each timed iteration: one is kept
  return "";
}

}  // namespace attnbench
