// Per-case time predictions for the progress line's ETA (see eta.hpp).
#include "harness/eta.hpp"

#include <algorithm>

namespace attnbench {

void EtaModel::Sums::add(double work, double seconds) {
  n += 1;
  w += work;
  t += seconds;
  ww += work * work;
  wt += work * seconds;
}

double EtaModel::Sums::predict(double work, double cases) const {
  if (n == 0) return 0;
  const double mean_t = t / n;
  if (w <= 0) return mean_t * cases;  // no work figure (FLOPs unknown): the mean case time
  const double det = n * ww - w * w;
  if (n >= 2 && det > 1e-12 * n * ww) {
    const double r = (n * wt - w * t) / det;
    const double a = (t - r * w) / n;
    if (r >= 0 && a >= 0) return a * cases + r * work;
    if (r < 0) return mean_t * cases;  // more work took less time: noise dominates, the mean is safest
  }
  return t / w * work;  // proportional: one point, equal works, or a negative intercept
}

std::string eta_backend_of(const std::string& group) { return group.substr(0, group.find(' ')); }

void EtaModel::add(const std::string& group, double work, double seconds) {
  groups_[group].add(work, seconds);
  backends_[eta_backend_of(group)].add(work, seconds);
  all_.add(work, seconds);
}

double EtaModel::predict(const std::string& group, double work, double cases) const {
  if (auto g = groups_.find(group); g != groups_.end()) return g->second.predict(work, cases);
  if (auto b = backends_.find(eta_backend_of(group)); b != backends_.end())
    return b->second.predict(work, cases);
  return all_.predict(work, cases);
}

}  // namespace attnbench
