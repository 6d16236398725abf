// The one case pipeline: capability -> inputs -> prepare -> measure -> check -> dump -> row, for every case
// kind.
#pragma once

#include <map>
#include <string>

#include "attnbench/comm.hpp"
#include "harness/case_data.hpp"
#include "harness/measurement.hpp"
#include "harness/scenario.hpp"
#include "harness/case_key.hpp"

namespace attnbench {

struct RunOptions {
  std::string filter;              // --filter GLOB over Case::label(); others become `skipped` rows
  std::string dump_dir;            // --dump-tensors DIR
  double memory_budget_bytes = 0;  // resolved budget (host and device)
  // --resume: rows of an earlier run by case_key(); those cases are not run again.
  std::map<std::string, ResultRow> previous;
};

// What every case of a sweep shares.
struct SweepContext {
  const Scenario& scenario;
  const RunOptions& options;
  CaseData& data;
};

// Runs one case where it belongs. A single-device case runs here with the local
// measurement. A CP case runs on the ranks of its world size (every world rank
// calls this for every CP case, in the same order): the pipeline creates the
// sub-communicator, scopes the OpenMP threads, and times with the distributed
// measurement; ranks outside the world size wait (sleeping) and get a `skipped`
// row "idle rank"; only the rank 0's row carries the check and the dump.
ResultRow run_case(const Case&, SweepContext&, ResultRow base);

// The steps themselves, on `comm` (nullptr: this process alone) with an injected
// measurement. Every outcome becomes the row: unsupported, oom, error (an
// exception of any type from a backend, strategy or plugin), mismatch or ok.
ResultRow run_case_on(const Case&, SweepContext&, ResultRow base, Communicator* comm, Measurement&);

}  // namespace attnbench
