// `attnbench run SCENARIO`: expands the sweep, runs it, and hands each row to the reporters (CSV, JSON,
// Markdown, plots).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <memory>

#include "harness/cli/cli.hpp"
#include "harness/comm/world.hpp"
#include "harness/context.hpp"
#include "harness/instructions.hpp"
#include "harness/progress.hpp"
#include "harness/case_row.hpp"
#include "harness/sweep.hpp"
#include "reports/json_reader.hpp"
#include "reports/reporters.hpp"

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
  bool dry_run = false;
};

// --dry-run: the expanded sweep, one case per line (the --filter glob applied), and
// its size per world size, so a scenario can be checked before a long launch.
int print_cases(const Scenario& s, const std::vector<Case>& cases, const std::string& filter) {
  std::size_t listed = 0;
  int largest_world = 1;
  for (const auto& c : cases) {
    if (!filter.empty() && !glob_match(filter, c.label())) continue;
    fmt::print("{}\n", c.label());
    ++listed;
    largest_world = std::max(largest_world, c.problem.world_size);
  }
  fmt::print("attnbench: {}: {} cases{}, largest world size {} (dry run: nothing ran)\n", s.name, listed,
             filter.empty() ? "" : fmt::format(" of {} match --filter {}", cases.size(), filter),
             largest_world);
  return 0;
}

int do_run(const RunArgs& a) {
  // MPI (harness/comm): every rank expands the same sweep; only world rank 0
  // prints and writes files.
  comm::WorldScope mpi_world;
  const bool lead = comm::is_lead();
  const Scenario s = load_scenario(a.scenario, a.sets);
  if (s.timing.metric == TimingMetric::instructions) {
    // Opened before any case starts OpenMP threads (perf counts the threads started after it).
    std::string why;
    if (instruction_counter(&why) == nullptr)
      throw InputError(
          fmt::format("{}: timing.metric: instructions: no instruction counter here ({})", a.scenario, why));
  }
  std::vector<Case> cases = expand(s);  // builds every mask: bad parameters fail here
  if (a.dry_run) return lead ? print_cases(s, cases, a.filter) : 0;
  int largest_world = 1;
  for (const auto& c : cases) largest_world = std::max(largest_world, c.problem.world_size);
  comm::check_world_size(largest_world, a.scenario);  // before any case runs
  const std::string out = a.out.empty() ? "results/" + s.name : a.out;

  RunOptions opt;
  opt.filter = a.filter;
  opt.dump_dir = a.dump;
  opt.memory_budget_bytes =
      s.memory_budget_gb > 0 ? s.memory_budget_gb * (1ull << 30) : default_memory_budget_bytes();

  if (lead) {
    std::filesystem::create_directories(out);
    if (!a.dump.empty()) std::filesystem::create_directories(a.dump);
    if (a.resume && std::filesystem::exists(out + "/results.json")) {
      for (auto& r : read_results_json(out + "/results.json").rows) opt.previous.emplace(case_key(r), r);
      if (!a.quiet)
        fmt::print(stderr, "attnbench: resuming: {} rows already in {}\n", opt.previous.size(), out);
    }
  }
  // The sweep driver (harness/sweep.hpp) coordinates the ranks: the others join
  // the CP cases only and write nothing.
  if (!lead) {
    run_cases(s, cases, opt);
    return 0;
  }

  Context context = collect_context(s.text);
  comm::describe_launch(context);                                            // MPI library and world size
  context.emplace_back("scenario_path", nlohmann::json(a.scenario).dump());  // results.md opens with it
  ReporterList reporters = standard_reporters(out, s.name, context, s.timing.max_noise_pct);
  std::vector<ResultRow> done;
  Progress progress(cases.size(), !a.quiet);
  if (!a.quiet) fmt::print(stderr, "attnbench: {} cases from {}\n", cases.size(), a.scenario);
  run_cases(
      s, cases, opt,
      [&](const Case& c, const ResultRow& r) {
        done.push_back(r);
        for (auto& reporter : reporters) reporter->print_row(r);
        progress.finish(c, r);
      },
      [&](const Case& c, std::size_t i, std::size_t) { progress.start(c, i); });
  progress.close();
  for (auto& reporter : reporters) reporter->finish(done);

  std::size_t by_status[6] = {0};
  for (const auto& r : done) ++by_status[static_cast<int>(r.status)];
  fmt::print("attnbench: {} rows: {} ok, {} mismatch, {} unsupported, {} oom, {} error, {} skipped\n",
             done.size(), by_status[0], by_status[4], by_status[1], by_status[2], by_status[3], by_status[5]);
  fmt::print("attnbench: reports in {0}/ (results.csv, results.json, results.md)\n", out);
  // A wrong result fails the run; unsupported, oom and error rows are reported, not fatal.
  return by_status[static_cast<int>(Status::mismatch)] > 0 ? 1 : 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "Run a scenario (YAML sweep) and write the reports");
  run->add_option("scenario", args->scenario, "Scenario YAML file")->required();
  run->add_option("--out", args->out, "Output folder (default: results/<scenario name>)");
  run->add_option("--set", args->sets, "Override a scenario field: key.path=value (repeatable)");
  run->add_option("--filter", args->filter,
                  "Run only cases whose label matches this glob; others become `skipped` rows");
  run->add_option("--dump-tensors", args->dump, "Write every case's tensors (.npy) and case.json here");
  run->add_flag("--quiet", args->quiet, "No progress output");
  run->add_flag("--dry-run", args->dry_run,
                "Check the scenario and list its cases (after --set and --filter); run nothing");
  run->add_flag("--resume", args->resume,
                "Keep the rows already in OUT/results.json and run only the missing cases");
  run->callback([args, &exit_code] { exit_code = do_run(*args); });
}

}  // namespace attnbench
