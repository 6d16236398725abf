// Warm-up and timed iterations until DESIGN.md's stopping rules are met.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"

namespace attnbench {

// What a row's iterations are judged by: wall time (the headline), or instructions retired,
// deterministic on CPU (harness/instructions.hpp), for gating on noisy machines.
enum class TimingMetric { time, instructions };

struct TimingConfig {
  int warmup = 2;
  int min_iters = 5;
  int max_iters = 100;
  double min_time_s = 0.2;
  double max_noise_pct = 3.0;
  double timeout_s = 30.0;
  TimingMetric metric = TimingMetric::time;
};

struct TimingResult {
  std::vector<double> seconds;          // one per timed iteration
  std::vector<double> compute_seconds;  // CP only (NaN otherwise)
  std::vector<double> comm_seconds;
  std::string stop_reason;  // converged | max_iters | timeout | counted
  // timing.metric instructions: per timed iteration, and the counter ("perf", "callgrind").
  double instructions = std::numeric_limits<double>::quiet_NaN();
  std::string counter;
};

// Runs `iteration` warmup times, then until (iters >= min_iters and total time >=
// min_time and noise <= max_noise), or max_iters, or timeout (wall clock of the
// timed phase). The rule that stopped it is reported.
TimingResult measure(const TimingConfig&, const std::function<IterationTime()>& iteration);

class InstructionCounter;
// timing.metric instructions: warm-up, then exactly min_iters iterations inside one counted
// region. Instructions are deterministic, so more iterations add nothing, and the count must not
// hang on the clock: no timeout, no noise rule (one warm-up iteration covers lazy set-up).
TimingResult measure_counted(const TimingConfig&, InstructionCounter&,
                             const std::function<IterationTime()>& iteration);

// The rule those timed samples meet (`measured_s` their sum, `wall_s` since the timed
// phase began): "converged", "max_iters" or "timeout", in that order; "" to go on.
std::string stop_rule(const TimingConfig&, const std::vector<double>& seconds, double measured_s,
                      double wall_s);

}  // namespace attnbench
