// `attnbench model SCENARIO --machine M.yaml`: modelled CP rows through the usual writers; --validate,
// --recommend.
#include "harness/cli/cmd_model.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "harness/context.hpp"
#include "harness/case_row.hpp"
#include "harness/pipeline.hpp"
#include "harness/sweep.hpp"
#include "harness/scenario.hpp"
#include "masks/library.hpp"
#include "model/cost.hpp"
#include "model/profile.hpp"
#include "model/report.hpp"
#include "reports/csv_writer.hpp"
#include "reports/json_reader.hpp"
#include "reports/json_writer.hpp"
#include "reports/markdown_writer.hpp"
#include "reports/plots.hpp"

namespace attnbench {

namespace {

struct ModelArgs {
  std::string scenario, machine, profile, out, validate, filter;
  std::vector<std::string> sets;
  std::int64_t tokens_per_gpu = 0;
  double tie_pct = 1;
  bool recommend = false, quiet = false;
};

// The Ulysses degrees and double-ring windows a recommendation tries (divisors of P strictly between 1 and P)
// when the scenario does not fix them.
std::vector<Problem> variants(const Problem& p) {
  std::vector<Problem> out{p};
  const char* key = p.strategy == "usp" ? "ulysses_degree" : p.strategy == "double_ring" ? "window" : nullptr;
  if (key == nullptr || p.options.count(key)) return out;
  for (int d = 2; d < p.world_size; ++d) {
    if (p.world_size % d != 0) continue;
    Problem v = p;
    v.options[key] = std::to_string(d);
    out.push_back(v);
  }
  return out;
}

int do_model(const ModelArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  model::Machine machine = model::load_machine(a.machine);
  if (!a.profile.empty()) {
    auto fitted = model::fit_profile(read_results_json(a.profile).rows);
    if (fitted.empty())
      throw InputError(
          fmt::format("{}: no single-device ok rows to fit a kernel profile from (accepted: a results.json "
                      "of `attnbench run` with strategy none rows)",
                      a.profile));
    // Fitted entries come first: they win over the machine file's own.
    fitted.insert(fitted.end(), machine.profile.begin(), machine.profile.end());
    machine.profile = std::move(fitted);
  }
  const Scenario s = load_scenario(a.scenario, a.sets);
  std::vector<Case> cases = expand(s);
  if (s.batching && a.tokens_per_gpu > 0)  // the lengths fix S; resizing would drop the batch's masks
    throw InputError(
        fmt::format("{}: batching sets the sequence lengths; --tokens-per-gpu cannot resize them "
                    "(accepted: a scenario with seqlens)",
                    a.scenario));
  const std::string out = a.out.empty() ? "results/" + s.name + "-model" : a.out;
  std::vector<ResultRow> rows;
  std::size_t modelled = 0;
  for (auto& c : cases) {
    if (c.problem.strategy == "none") continue;  // the model projects CP strategies
    if (!a.filter.empty() && !glob_match(a.filter, c.label())) continue;
    if (a.tokens_per_gpu > 0) {  // weak scaling: S = tokens per GPU x GPUs (LongCA-bench's setup)
      const std::int64_t S = a.tokens_per_gpu * c.problem.world_size;
      c.problem.shape.seqlen_q = c.problem.shape.seqlen_k = S;
      c.problem.mask = build_mask(s.masks[c.mask_index], S, S);
    }
    for (const Problem& p : a.recommend ? variants(c.problem) : std::vector<Problem>{c.problem}) {
      Case v = c;
      v.problem = p;
      ResultRow row = base_row(v);
      try {
        model::fill_row(row, model::model_case(p, c.backend, machine));
      } catch (const InputError& e) {
        row.status = Status::error;
        row.message = e.what();
      }
      modelled += row.status == Status::modelled;
      rows.push_back(std::move(row));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::filesystem::create_directories(out);
  Context context = collect_context(s.text);
  context.push_back({"machine_file", json_string(machine.path)});
  {
    CsvWriter csv(out + "/results.csv");
    for (const auto& r : rows) csv.write(r);
  }
  write_results_json(out + "/results.json", context, rows);
  write_results_markdown(out + "/results.md", s.name + " (modelled on " + machine.name + ")", rows);
  if (!a.quiet) write_plots(rows, out);
  fmt::print("attnbench: model: {} rows ({} modelled) in {:.2f} s on {}; reports in {}/\n", rows.size(),
             modelled, seconds, machine.name, out);
  int code = 0;
  if (a.recommend) {
    const std::string md = model::recommend_markdown(rows);
    std::ofstream(out + "/recommend.md") << md;
    fmt::print("{}", md);
  }
  if (!a.validate.empty()) {
    const auto v = model::validate(rows, read_results_json(a.validate).rows, a.tie_pct);
    if (v.pairs.empty())
      throw InputError(
          fmt::format("{}: no measured CP row matches a modelled case (accepted: a results.json of "
                      "`attnbench run` on the same scenario)",
                      a.validate));
    const std::string text = model::validation_text(v);
    std::ofstream(out + "/validate.md") << text;
    fmt::print("{}", text);
  }
  return code;
}

}  // namespace

void add_model_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ModelArgs>();
  CLI::App* c = app.add_subcommand(
      "model", "Project CP strategies to any GPU count with the cost model (no ranks needed)");
  c->add_option("scenario", args->scenario, "Scenario YAML file (world sizes up to thousands)")->required();
  c->add_option("--machine", args->machine, "Machine file (machines/*.yaml or `attnbench calibrate` output)")
      ->required();
  c->add_option("--profile", args->profile,
                "results.json with single-device rows to fit the kernel profile from");
  c->add_option("--out", args->out, "Output folder (default: results/<scenario name>-model)");
  c->add_option("--set", args->sets, "Override a scenario field: key.path=value (repeatable)");
  c->add_option("--filter", args->filter, "Model only cases whose label matches this glob");
  c->add_option("--tokens-per-gpu", args->tokens_per_gpu,
                "Weak scaling: each case's seqlen = this x its world size (the mask rebuilt for it)");
  c->add_option("--validate", args->validate, "results.json of a measured run: per-row error and MAPE");
  c->add_option("--tie-pct", args->tie_pct,
                "With --validate: strategies modelled within this % of the fastest tie with it (default 1)")
      ->check(CLI::Range(0.0, 100.0));
  c->add_flag("--recommend", args->recommend,
              "Per (mask, seqlen, GPUs, pass): the fastest strategy and its degrees, runner-up and margin");
  c->add_flag("--quiet", args->quiet, "No plots");
  c->callback([args, &exit_code] { exit_code = do_model(*args); });
}

}  // namespace attnbench
