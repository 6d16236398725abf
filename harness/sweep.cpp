// Rank coordination of a sweep (which rank runs which case, resume skips agreed) around the case pipeline.
#include "harness/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "harness/case_row.hpp"
#include "harness/comm/world.hpp"

namespace attnbench {

namespace {

// Which cases world rank 0 resumes: broadcast so that every rank meets the same
// CP cases in the same order (the other ranks have no results file).
std::vector<std::uint8_t> agreed_resumed(const std::vector<Case>& cases, const RunOptions& opt) {
  std::vector<std::uint8_t> resumed(cases.size(), 0);
  for (std::size_t i = 0; i < cases.size(); ++i)
    resumed[i] = opt.previous.count(case_key(base_row(cases[i]))) > 0 ? 1 : 0;
  Communicator& w = comm::world();
  if (w.size() > 1 && !resumed.empty()) w.broadcast(resumed.data(), resumed.size(), 0);
  return resumed;
}

}  // namespace

void check_filter_matches(const std::vector<Case>& cases, const std::string& filter) {
  if (filter.empty()) return;
  for (const auto& c : cases)
    if (glob_match(filter, c.label())) return;
  constexpr std::size_t kShown = 3;
  std::string examples;
  for (std::size_t i = 0; i < std::min(kShown, cases.size()); ++i)
    examples += (i ? ", " : "") + cases[i].label();
  throw InputError(fmt::format("--filter {}: matches no case of {} (the glob must match a whole label, * and ?; "
                               "labels look like: {}{}; run --dry-run lists them all)",
                               filter, cases.size(), examples, cases.size() > kShown ? ", ..." : ""));
}

std::vector<ResultRow> run_cases(const Scenario& s, const std::vector<Case>& cases, const RunOptions& opt,
                                 const RowCallback& on_row, const StartCallback& on_start) {
  const bool lead = comm::is_lead();
  const std::vector<std::uint8_t> resumed = agreed_resumed(cases, opt);
  std::vector<ResultRow> rows;
  CaseData data(s);
  SweepContext ctx{s, opt, data};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const bool cp = c.problem.strategy != "none";
    if (!lead && (resumed[i] || !cp)) continue;  // non-lead ranks join CP cases only
    if (lead && on_start) on_start(c, i, cases.size());
    ResultRow row = base_row(c);
    if (resumed[i]) {
      row = opt.previous.at(case_key(row));  // --resume: finished in an earlier run
    } else if (!opt.filter.empty() && !glob_match(opt.filter, c.label())) {
      row.status = Status::skipped;
      row.message = "filtered out by --filter " + opt.filter;
    } else {
      row = run_case(c, ctx, std::move(row));
    }
    if (lead && on_row) on_row(c, row);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace attnbench
