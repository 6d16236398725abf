// `attnbench run SCENARIO`: expands the sweep, runs it, and hands each row to the reporters (CSV, JSON,
// Markdown, plots).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>

#include "harness/agreement.hpp"
#include "harness/case_row.hpp"
#include "harness/cli/cli.hpp"
#include "harness/comm/world.hpp"
#include "harness/context.hpp"
#include "harness/interrupt.hpp"
#include "harness/instructions.hpp"
#include "harness/progress.hpp"
#include "harness/sweep.hpp"
#include "reports/durable_file.hpp"
#include "reports/folder_results.hpp"
#include "reports/reporters.hpp"
#include "reports/row_set.hpp"

namespace attnbench {

namespace {

struct RunArgs {
  std::string scenario;
  std::string out;
  std::vector<std::string> sets;
  std::string filter;
  std::string dump;
  bool quiet = false;
  bool resume = false;
  bool append = false;
  bool dry_run = false;
  std::string fail_on = "mismatch";  // mismatch | error: which rows make the exit code 1
};

// --dry-run: the expanded sweep, one case per line (after --filter), its size per
// world size, and what --filter pruned, so a scenario can be checked before a long launch.
int print_cases(const Scenario& s, const std::vector<Case>& all, const std::vector<Case>& cases,
                const std::string& filter) {
  int largest_world = 1;
  for (const auto& c : cases) {
    fmt::print("{}\n", c.label());
    largest_world = std::max(largest_world, c.problem.world_size);
  }
  if (!filter.empty() && cases.size() < all.size()) {
    std::string some;
    std::size_t shown = 0, pruned = all.size() - cases.size();
    for (const auto& c : all)
      if (!glob_match(filter, c.label()) && shown++ < 3) some += (some.empty() ? "" : ", ") + c.label();
    fmt::print("attnbench: --filter {} pruned {} case{} (not run, no rows): {}{}\n", filter, pruned,
               pruned == 1 ? "" : "s", some, pruned > 3 ? ", ..." : "");
  }
  fmt::print("attnbench: {}: {} cases{}, largest world size {} (dry run: nothing ran)\n", s.name,
             cases.size(), filter.empty() ? "" : fmt::format(" of {} match --filter {}", all.size(), filter),
             largest_world);
  return 0;
}

// The agreed outcome of a failed phase: printed once (world rank 0), the exit code on every rank.
int failed(const Outcome& e) {
  if (comm::is_lead()) fmt::print(stderr, "attnbench: error: {}\n", e.message);
  return e.exit_code;
}

// What world rank 0 sets up before any case runs (every step may throw; the ranks agree after).
struct RunOutputs {
  std::string dir;
  RowSet rows;  // the folder's rows: kept ones first, each new row appended or replacing its case's
  std::size_t kept = 0;
  Context context;
  ReporterList reporters;
};

void prepare_outputs(const RunArgs& a, const Scenario& s, RunOptions& opt, RunOutputs& o) {
  probe_output_dir(o.dir, "--out");
  if (!a.dump.empty()) probe_output_dir(a.dump, "--dump-tensors");
  const FolderScenario mine{s.name, scenario_fingerprint(s.text), a.scenario};
  const FolderScenario theirs = read_folder_scenario(o.dir, a.resume || a.append);
  if (!theirs.name.empty() && theirs.name != s.name && !a.append)
    throw InputError(
        fmt::format("{}: the folder holds results of scenario '{}' ({}), not of '{}' ({}); "
                    "choose another --out, or pass --append to add to them",
                    o.dir, theirs.name, theirs.source, s.name, a.scenario));
  if (a.resume || a.append) {
    const FolderResults folder = read_folder_results(o.dir);
    o.rows = RowSet(folder.rows);
    o.kept = o.rows.size();
    // Filtered-out `skipped` rows of older versions are not done: resume runs those cases.
    if (a.resume)
      for (const auto& r : o.rows.rows())
        if (r.status != Status::skipped) opt.previous.emplace(case_key(r), r);
    if (!a.quiet && !folder.source.empty())
      fmt::print(stderr, "attnbench: {}: {} rows kept from {}{}\n", a.resume ? "resuming" : "appending",
                 o.kept, folder.source,
                 folder.cut_bytes > 0
                     ? fmt::format(" (a last line cut short, {} bytes, dropped: its case runs again)",
                                   folder.cut_bytes)
                     : "");
  }
  o.context = collect_context(s.text);
  comm::describe_launch(o.context);  // MPI library and world size
  o.context.emplace_back("scenario_name", json_string(s.name));
  o.context.emplace_back("scenario_fingerprint", json_string(mine.fingerprint));
  write_folder_scenario(o.dir, mine);  // before the first row: the folder says whose rows it holds
  o.context.emplace_back("scenario_path", json_string(a.scenario));  // results.md opens with it
  o.reporters = standard_reporters(o.dir, s.name, o.context, s.timing.max_noise_pct);
  for (auto& reporter : o.reporters) reporter->begin(o.rows.rows());
}

int summarize(const std::vector<ResultRow>& rows, std::size_t run_now, const std::string& out,
              const std::string& fail_on) {
  std::size_t by_status[7] = {0};  // one per Status
  for (const auto& r : rows) ++by_status[static_cast<int>(r.status)];
  fmt::print(
      "attnbench: {} rows: {} ok, {} mismatch, {} unsupported, {} oom, {} error, {} skipped ({} run now)\n",
      rows.size(), by_status[0], by_status[4], by_status[1], by_status[2], by_status[3], by_status[5],
      run_now);
  fmt::print("attnbench: reports in {0}/ (results.csv, results.json, results.md)\n", out);
  // A wrong result fails the run; with --fail-on error a backend that threw does too (CI).
  // unsupported, oom and skipped rows are reported, never fatal (README "Exit codes").
  const bool failing = by_status[static_cast<int>(Status::mismatch)] > 0 ||
                       (fail_on == "error" && by_status[static_cast<int>(Status::error)] > 0);
  return failing ? 1 : 0;
}

int do_run(const RunArgs& a) {
  // MPI (harness/comm): every rank expands the same sweep; only world rank 0
  // prints and writes files. Every failure before a collective is agreed first
  // (agree_outcome), so no rank waits for one that has given up.
  comm::WorldScope mpi_world;
  Communicator& world = comm::world();
  const bool lead = comm::is_lead();
  install_interrupt_handlers(lead);
  std::optional<Scenario> scenario;
  std::vector<Case> all, cases;
  if (auto e = agree_outcome(world, outcome_of([&] {
                               scenario = load_scenario(a.scenario, a.sets);
                               if (scenario->timing.metric == TimingMetric::instructions) {
                                 // Opened before any case starts OpenMP threads (perf counts the
                                 // threads started after it).
                                 std::string why;
                                 if (instruction_counter(&why) == nullptr)
                                   throw InputError(fmt::format(
                                       "{}: timing.metric: instructions: no instruction counter here ({})",
                                       a.scenario, why));
                               }
                               all = expand(*scenario);  // builds every mask: bad parameters fail here
                               check_filter_matches(all, a.filter);
                               cases = prune_cases(all, a.filter);
                               int largest_world = 1;
                               for (const auto& c : cases)
                                 largest_world = std::max(largest_world, c.problem.world_size);
                               if (!a.dry_run)
                                 comm::check_world_size(largest_world, a.scenario);  // before any case runs
                             })))
    return failed(e);
  const Scenario& s = *scenario;
  if (a.dry_run) return lead ? print_cases(s, all, cases, a.filter) : 0;

  RunOptions opt;
  opt.dump_dir = a.dump;
  opt.memory_budget_bytes =
      s.memory_budget_gb > 0 ? s.memory_budget_gb * (1ull << 30) : default_memory_budget_bytes();
  RunOutputs o;
  o.dir = a.out.empty() ? "results/" + s.name : a.out;
  if (auto e = agree_outcome(world, lead ? outcome_of([&] { prepare_outputs(a, s, opt, o); }) : Outcome{}))
    return failed(e);

  // The sweep driver (harness/sweep.hpp) coordinates the ranks: the others join
  // the CP cases only and write nothing.
  SweepStop stop;
  if (!lead) {
    run_cases(s, cases, opt, {}, {}, &stop);
    return stop.exit_code;
  }
  std::size_t run_now = 0;
  std::vector<Case> to_run;
  for (const auto& c : cases)
    if (!opt.previous.count(case_key(base_row(c)))) to_run.push_back(c);
  Progress progress(to_run, !a.quiet);
  if (!a.quiet)
    fmt::print(
        stderr, "attnbench: {} cases from {}{}\n", cases.size(), a.scenario,
        to_run.size() < cases.size() ? fmt::format(" ({} already done)", cases.size() - to_run.size()) : "");
  run_cases(
      s, cases, opt,
      [&](const Case& c, const ResultRow& r) {
        o.rows.add(r);
        ++run_now;
        for (auto& reporter : o.reporters) reporter->print_row(r);  // CSV: one checked append
        progress.finish(c, r);
      },
      [&](const Case& c, std::size_t done, std::size_t) { progress.start(c, done); }, &stop);
  progress.close();
  if (stop && stop.exit_code < 128) {
    // A failed write (or dump): every finished row is in results.csv already; the
    // other reports are tried once more (each atomic: old or new, never half), quietly.
    for (auto& reporter : o.reporters) (void)outcome_of([&] { reporter->finish(o.rows.rows()); });
    return failed(stop);
  }
  if (auto e = outcome_of([&] {
        for (auto& reporter : o.reporters) reporter->finish(o.rows.rows());
      }))
    return failed(e);
  if (stop) {
    fmt::print(
        stderr,
        "attnbench: {}: stopped at a case boundary with {} cases not run; {} rows in {}/ (results.csv, "
        "results.json, results.md); rerun with --resume to finish\n",
        stop.message, stop.cases_left, o.rows.size(), o.dir);
    return stop.exit_code;
  }
  return summarize(o.rows.rows(), run_now, o.dir, a.fail_on);
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "Run a scenario (YAML sweep) and write the reports");
  run->add_option("scenario", args->scenario, "Scenario YAML file")->required();
  run->add_option("--out", args->out, "Output folder (default: results/<scenario name>)");
  run->add_option("--set", args->sets, "Override a scenario field: key.path=value (repeatable)");
  run->add_option("--filter", args->filter,
                  "Run only cases whose label matches this glob; the others are pruned (not run, no rows)");
  run->add_option("--dump-tensors", args->dump, "Write every case's tensors (.npy) and case.json here");
  run->add_flag("--quiet", args->quiet, "No progress output");
  run->add_flag("--dry-run", args->dry_run,
                "Check the scenario and list its cases (after --set and --filter); run nothing");
  run->add_flag(
      "--resume", args->resume,
      "Keep the rows already in OUT (results.csv, else results.json) and run only the missing cases");
  run->add_flag(
      "--append", args->append,
      "Keep OUT's rows even when they come from another scenario, and add this sweep's rows to them");
  run->add_option("--fail-on", args->fail_on,
                  "Rows that make the exit code 1: mismatch (wrong results; the default) or error "
                  "(also rows whose backend threw)")
      ->check(CLI::IsMember({"mismatch", "error"}))
      ->capture_default_str();
  run->callback([args, &exit_code] { exit_code = do_run(*args); });
}

}  // namespace attnbench
