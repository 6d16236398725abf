// The runner: every case isolated — capability, inputs, warm-up, timing, check — and one row each.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/case_data.hpp"
#include "harness/scenario.hpp"
#include "harness/case_key.hpp"

namespace attnbench {

struct RunOptions {
  std::string filter;       // --filter GLOB over Case::label(); others become `skipped` rows
  std::string dump_dir;     // --dump-tensors DIR
  double memory_budget_bytes = 0;  // resolved budget (host and device)
  // --resume: rows of an earlier run by case_key(); those cases are not run again.
  std::map<std::string, ResultRow> previous;
};

// Called as each row finishes (writers append and flush here).
using RowCallback = std::function<void(const Case&, const ResultRow&)>;
// Called before each case starts (progress display).
using StartCallback = std::function<void(const Case&, std::size_t done, std::size_t total)>;

// Runs a case of a CP strategy; installed by the CP module when it is built.
using StrategyCaseRunner = std::function<ResultRow(const Case&, const Scenario&, const RunOptions&,
                                                   CaseData&, ResultRow base)>;
void set_strategy_case_runner(StrategyCaseRunner);

std::vector<ResultRow> run_cases(const Scenario&, const std::vector<Case>&, const RunOptions&,
                                 const RowCallback& on_row = {}, const StartCallback& on_start = {});

// The row fields that come from the case alone (key columns, area, density).
ResultRow base_row(const Case&);
// Fills time/statistics/tflops columns from a timing sample.
void fill_timing(ResultRow&, const Problem&, const TimingResult&);

// Whether the case is checked against the reference (check.enabled, check.max_seqlen).
bool should_check(const Scenario&, const Problem&);
// Sets max_abs_err/rel_l2_err and turns the row into `mismatch` past the tolerance
// (scenario override, else the backend's own, else the dtype default); with no
// outputs it only says why the row was not checked.
void apply_check(ResultRow&, const Scenario&, const BackendInfo&, const Problem&,
                 const Outputs* out, const Outputs* ref);

// Half of the memory available now (MemAvailable), the default budget.
double default_memory_budget_bytes();

}  // namespace attnbench
