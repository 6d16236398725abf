// Runs one CP case on the ranks of its world size: agree, time (max over ranks), gather, check, dump.
#pragma once

#include "harness/runner.hpp"

namespace attnbench::cp {

// The StrategyCaseRunner installed at start-up (harness/runner.hpp). Every
// world rank calls it for every CP case, in the same order: ranks outside the
// case's world size wait (sleeping) for it to finish; only world rank 0's row
// carries the check and the dump.
ResultRow run_cp_case(const Case&, const Scenario&, const RunOptions&, CaseData&, ResultRow base);

// Warm-up and timed iterations where every stopping decision is taken on values
// all ranks share (per-iteration maxima over ranks), so no rank leaves the loop
// alone. `iteration` returns this rank's time.
struct DistributedTiming {
  TimingResult max_over_ranks;              // seconds/compute/comm: per iteration, max over ranks
  std::vector<std::vector<double>> per_rank;  // [rank][iteration] seconds
};
DistributedTiming measure_distributed(const TimingConfig&, Communicator&,
                                      const std::function<IterationTime()>& iteration);

}  // namespace attnbench::cp
