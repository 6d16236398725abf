// The sweep driver: runs the expanded cases in order on every rank of a launch, one row each.
#pragma once

#include <functional>
#include <vector>

#include "harness/pipeline.hpp"

namespace attnbench {

// Called as each row finishes (writers append and flush here).
using RowCallback = std::function<void(const Case&, const ResultRow&)>;
// Called before each case starts (progress display).
using StartCallback = std::function<void(const Case&, std::size_t done, std::size_t total)>;

// A --filter that matches no case is a mistake, not an empty run: throws InputError naming the
// glob and a few of the case labels it could have matched. An empty filter passes.
void check_filter_matches(const std::vector<Case>&, const std::string& filter);

// Every rank of the launch calls this with the same cases. The ranks agree on
// which cases run (world rank 0's --resume rows are skipped everywhere); world
// rank 0 runs every case and gets every row and callback; the other ranks join
// the CP cases only and return the rows of those (no callbacks).
std::vector<ResultRow> run_cases(const Scenario&, const std::vector<Case>&, const RunOptions&,
                                 const RowCallback& on_row = {}, const StartCallback& on_start = {});

}  // namespace attnbench
