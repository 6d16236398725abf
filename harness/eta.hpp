// Time-left estimate for a sweep: cases differ by orders of magnitude in work (sequence length, mask
// density, backend), so the ETA predicts each remaining case from the cases already finished instead of
// multiplying the mean case time by the count left.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace attnbench {

class EtaModel {
 public:
  // A finished case: its group (backend and pass: cases that share a speed), its work (FLOPs) and the
  // seconds it took, checks and set-up included.
  void add(const std::string& group, double work, double seconds);
  // Predicted seconds for `cases` cases not run yet of one group, `work` their FLOPs in all (every
  // prediction is linear in the work, so a group's cases left are priced at once).
  double predict(const std::string& group, double work, double cases = 1) const;
  bool empty() const { return all_.n == 0; }

 private:
  struct Sums {
    double n = 0, w = 0, t = 0, ww = 0, wt = 0;
    void add(double work, double seconds);
    // t = a + r*w by least squares (a >= 0: a per-case cost, r >= 0: seconds per FLOP); with one point
    // or equal works, t proportional to w. For `cases` cases of `work` FLOPs in all.
    double predict(double work, double cases) const;
  };
  std::map<std::string, Sums> groups_;
  std::map<std::string, Sums> backends_;  // the group's backend, when the group has no point yet
  Sums all_;
};

// "backend pass" -> "backend": the fallback key of a group.
std::string eta_backend_of(const std::string& group);

}  // namespace attnbench
