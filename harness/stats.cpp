// Median, percentiles, mean, sample standard deviation and relative noise.
#include "harness/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnbench {

namespace {

double percentile_of_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return 0.0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

struct Moments {
  double mean = 0, stddev = 0, noise = 0;
};

// Mean, sample standard deviation and their ratio, in the samples' own order, so that
// summarize() and relative_noise() agree to the last bit.
Moments moments(const std::vector<double>& v) {
  Moments m;
  if (v.empty()) return m;
  m.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - m.mean) * (x - m.mean);
    m.stddev = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  m.noise = m.mean > 0 ? m.stddev / m.mean : 0.0;
  return m;
}

}  // namespace

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return percentile_of_sorted(v, q);
}

Summary summarize(const std::vector<double>& samples) {
  Summary s;
  s.count = static_cast<std::int64_t>(samples.size());
  if (samples.empty()) return s;
  std::vector<double> v = samples;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = percentile_of_sorted(v, 0.5);
  s.p20 = percentile_of_sorted(v, 0.2);
  s.p80 = percentile_of_sorted(v, 0.8);
  const Moments m = moments(samples);
  s.mean = m.mean;
  s.stddev = m.stddev;
  s.noise = m.noise;
  return s;
}

double relative_noise(const std::vector<double>& samples) { return moments(samples).noise; }

}  // namespace attnbench
