// Rank coordination of a sweep (which rank runs which case, resume skips agreed, agreed stops) around the
// case pipeline.
#include "harness/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "harness/case_row.hpp"
#include "harness/comm/world.hpp"
#include "harness/interrupt.hpp"

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

// This rank's reason to stop now: a failed row callback (rank 0) or a signal.
Outcome local_stop(const Outcome& failed) {
  if (failed) return failed;
  if (const int sig = interrupt_signal(); sig != 0)
    return {interrupt_exit_code(sig), std::string("interrupted by ") + signal_name(sig)};
  return {};
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
  throw InputError(
      fmt::format("--filter {}: matches no case of {} (the glob must match a whole label, * and ?; "
                  "labels look like: {}{}; run --dry-run lists them all)",
                  filter, cases.size(), examples, cases.size() > kShown ? ", ..." : ""));
}

std::vector<Case> prune_cases(const std::vector<Case>& cases, const std::string& glob) {
  if (glob.empty()) return cases;
  std::vector<Case> kept;
  for (const auto& c : cases)
    if (glob_match(glob, c.label())) kept.push_back(c);
  return kept;
}

std::vector<ResultRow> run_cases(const Scenario& s, const std::vector<Case>& cases, const RunOptions& opt,
                                 const RowCallback& on_row, const StartCallback& on_start, SweepStop* stop) {
  const bool lead = comm::is_lead();
  Communicator& world = comm::world();
  const std::vector<std::uint8_t> resumed = agreed_resumed(cases, opt);
  std::size_t to_run = 0;
  for (auto r : resumed) to_run += r ? 0 : 1;
  std::vector<ResultRow> rows;
  CaseData data(s);
  SweepContext ctx{s, opt, data};
  Outcome failed;         // a row callback that threw (rank 0)
  Outcome agreed;         // the stop: agreed by every rank, or rank 0's own before a single-device case
  bool all_know = false;  // `agreed` came from an agreement step, so every rank has left already
  std::size_t ran = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const bool cp = c.problem.strategy != "none";
    if (resumed[i]) {  // --resume: finished in an earlier run
      if (lead) rows.push_back(opt.previous.at(case_key(base_row(c))));
      continue;
    }
    // A case boundary: rank 0 alone decides before a single-device case; before a CP
    // case (where every rank meets anyway) all ranks agree, so none waits in a
    // collective that another has left.
    if (cp && world.size() > 1) {
      agreed = agree_outcome(world, local_stop(failed));
      all_know = static_cast<bool>(agreed);
    } else if (lead) {
      agreed = local_stop(failed);
    }
    if (agreed) break;
    if (!lead && !cp) continue;  // non-lead ranks join CP cases only
    if (lead && on_start) on_start(c, ran, to_run);
    ResultRow row;
    // Only an OutputError (a dump that cannot be written) leaves run_case: stop, no row.
    failed = outcome_of([&] { row = run_case(c, ctx, base_row(c)); });
    ++ran;
    if (failed) continue;
    if (lead && on_row) failed = outcome_of([&] { on_row(c, row); });
    rows.push_back(std::move(row));
  }
  // The end: ranks that finished their CP cases learn whether rank 0 stopped (rank 0's
  // one agreement call after a stop of its own meets theirs, wherever they wait).
  // A signal after the last case changes nothing: every row is done.
  if (world.size() > 1 && !all_know)
    agreed = agree_outcome(world, agreed ? agreed : failed);
  else if (!agreed)
    agreed = failed;
  if (agreed && stop == nullptr) throw std::runtime_error(agreed.message);
  if (stop != nullptr) {
    static_cast<Outcome&>(*stop) = agreed;
    stop->cases_left = agreed ? to_run - std::min(to_run, ran) : 0;
  }
  return rows;
}

}  // namespace attnbench
