// Summary statistics of a sample of iteration times (the row's time columns).
#pragma once

#include <cstdint>
#include <vector>

namespace attnbench {

struct Summary {
  std::int64_t count = 0;
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0, p20 = 0, p80 = 0;
  double noise = 0;  // relative standard deviation (stddev / mean), a fraction
};

// Percentile with linear interpolation between closest ranks (q in [0, 1]).
double percentile(std::vector<double> sorted_or_not, double q);
Summary summarize(const std::vector<double>& samples);
// stddev / mean of the samples (0 for fewer than two), exactly summarize().noise but
// without copying or sorting: the stopping rule asks for it after every iteration.
double relative_noise(const std::vector<double>& samples);

}  // namespace attnbench
