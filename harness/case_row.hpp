// The result row of one case: fields from the case alone, timing columns, and the correctness check.
#pragma once

#include "attnbench/backend.hpp"
#include "harness/scenario.hpp"
#include "harness/timing.hpp"
#include "harness/schema/case_key.hpp"

namespace attnbench {

// The row fields that come from the case alone (key columns, area, density).
ResultRow base_row(const Case&);
// Fills time/statistics/tflops columns from a timing sample.
void fill_timing(ResultRow&, const Problem&, const TimingResult&);

// Whether the case is checked against the reference (check.enabled, check.max_seqlen).
bool should_check(const Scenario&, const Problem&);
// Sets max_abs_err/rel_l2_err and turns the row into `mismatch` past the tolerance
// (scenario override, else the backend's own, else the dtype default; an approximate backend: its own,
// on O alone, also written as `approx_rel_l2`); with no
// outputs it only says why the row was not checked.
void apply_check(ResultRow&, const Scenario&, const BackendInfo&, const Problem&, const Outputs* out,
                 const Outputs* ref);

// Half of the memory available now (MemAvailable), the default budget.
double default_memory_budget_bytes();

}  // namespace attnbench
