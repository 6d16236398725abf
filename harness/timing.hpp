// Warm-up and timed iterations until DESIGN.md's stopping rules are met.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"

namespace attnbench {

struct TimingConfig {
  int warmup = 2;
  int min_iters = 5;
  int max_iters = 100;
  double min_time_s = 0.2;
  double max_noise_pct = 3.0;
  double timeout_s = 30.0;
};

struct TimingResult {
  std::vector<double> seconds;          // one per timed iteration
  std::vector<double> compute_seconds;  // CP only (NaN otherwise)
  std::vector<double> comm_seconds;
  std::string stop_reason;  // converged | max_iters | timeout
};

// Runs `iteration` warmup times, then until (iters >= min_iters and total time >=
// min_time and noise <= max_noise), or max_iters, or timeout (wall clock of the
// timed phase). The rule that stopped it is reported.
TimingResult measure(const TimingConfig&, const std::function<IterationTime()>& iteration);

// The rule those timed samples meet (`measured_s` their sum, `wall_s` since the timed
// phase began): "converged", "max_iters" or "timeout", in that order; "" to go on.
std::string stop_rule(const TimingConfig&, const std::vector<double>& seconds, double measured_s,
                      double wall_s);

}  // namespace attnbench
