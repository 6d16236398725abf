// The injected measurement step of the case pipeline: the local timing loop, or the distributed one.
#pragma once

#include <memory>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/comm.hpp"
#include "harness/timing.hpp"
#include "harness/schema/case_key.hpp"

namespace attnbench {

// Times one prepared execution under the stopping rule (harness/timing.hpp) and
// writes what it measured into the row: the timing columns, the execution's
// metrics and the peak memory. The pipeline owns every other step.
class Measurement {
 public:
  virtual ~Measurement() = default;
  // Warm-up and timed iterations; every stopping decision is the shared rule.
  virtual TimingResult time(const TimingConfig&, Execution&) = 0;
  // Timing columns, the execution's metrics and `peak_bytes` (this process's peak).
  virtual void fill(ResultRow&, const Problem&, const TimingResult&, std::vector<Metric> metrics,
                    double peak_bytes) = 0;
};

// One process: steady-clock (or the execution's own events) around each iteration.
class LocalMeasurement final : public Measurement {
 public:
  TimingResult time(const TimingConfig&, Execution&) override;
  void fill(ResultRow&, const Problem&, const TimingResult&, std::vector<Metric>, double) override;
};

// Warm-up and timed iterations where every stopping decision is taken on values
// all ranks share (per-iteration maxima over ranks), so no rank leaves the loop
// alone. `iteration` returns this rank's time.
struct DistributedTiming {
  TimingResult max_over_ranks;                // seconds/compute/comm: per iteration, max over ranks
  std::vector<std::vector<double>> per_rank;  // [rank][iteration] seconds
};
DistributedTiming measure_distributed(const TimingConfig&, Communicator&,
                                      const std::function<IterationTime()>& iteration);

// The ranks of `comm`: a barrier before each iteration, the max over ranks per
// iteration; fill() adds compute/comm split, per-rank times and bytes, and the
// peak over ranks (collective: every rank of comm calls it).
class DistributedMeasurement final : public Measurement {
 public:
  explicit DistributedMeasurement(Communicator& comm) : comm_(comm) {}
  TimingResult time(const TimingConfig&, Execution&) override;
  void fill(ResultRow&, const Problem&, const TimingResult&, std::vector<Metric>, double) override;

 private:
  Communicator& comm_;
  std::vector<std::vector<double>> per_rank_;  // of the last time()
};

}  // namespace attnbench
