// The sweep driver: runs the expanded cases in order on every rank of a launch, one row each.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/agreement.hpp"
#include "harness/pipeline.hpp"

namespace attnbench {

// Called as each newly run row finishes (writers append and flush here). Whatever it
// throws stops the sweep at this case boundary (SweepStop), on every rank.
using RowCallback = std::function<void(const Case&, const ResultRow&)>;
// Called before each case that runs (progress display): `done` cases of `total` ran before it.
using StartCallback = std::function<void(const Case&, std::size_t done, std::size_t total)>;

// A --filter that matches no case is a mistake, not an empty run: throws InputError naming the
// glob and a few of the case labels it could have matched. An empty filter passes.
void check_filter_matches(const std::vector<Case>&, const std::string& filter);
// Why a sweep ended before its last case, agreed by every rank: a signal
// (exit_code 130/143), a failed write or another error in a row callback (2 or 1).
struct SweepStop : Outcome {
  std::size_t cases_left = 0;  // cases of the sweep not run (resumed ones not counted)
};

// --filter: the cases whose label matches `glob` (all of them when it is empty).
// Cases left out are not run and get no row, so a later run without --filter runs them.
std::vector<Case> prune_cases(const std::vector<Case>& cases, const std::string& glob);

// Every rank of the launch calls this with the same cases. The ranks agree on
// which cases run (world rank 0's --resume rows are skipped everywhere); world
// rank 0 runs every case and gets every row and callback; the other ranks join
// the CP cases only and return the rows of those (no callbacks). Resumed cases
// are returned with their earlier row but get no callback.
// Before each CP case and at the end, the ranks agree whether to stop (a signal on
// any rank, a throwing callback on rank 0): then every rank leaves at that case
// boundary and `stop` says why (without `stop`, such a stop throws instead).
std::vector<ResultRow> run_cases(const Scenario&, const std::vector<Case>&, const RunOptions&,
                                 const RowCallback& on_row = {}, const StartCallback& on_start = {},
                                 SweepStop* stop = nullptr);

}  // namespace attnbench
