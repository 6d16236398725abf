// The `attnbench compare` subcommand: CLI wiring around reports/compare.
#include "harness/cli/cmd_compare.hpp"

#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "attnbench/types.hpp"
#include "reports/compare.hpp"
#include "reports/compare_markdown.hpp"
#include "reports/junit.hpp"

namespace attnbench {
namespace {

void write_text(const std::string& path, const std::string& text, const char* option) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f << text;
  if (!f) throw InputError(fmt::format("{} {}: cannot write the file", option, path));
}

}  // namespace

int run_compare_command(const CompareCommandArgs& args, std::ostream& out, std::ostream& err) {
  CompareOptions opt;
  opt.threshold_pct = args.threshold_pct;
  opt.noise_sigmas = args.noise_sigmas;
  opt.min_paired_pct = args.min_paired_pct;
  opt.confidence_pct = args.confidence_pct;
  try {
    opt.fail_on = parse_fail_on(args.fail_on);
  } catch (const InputError& e) {
    err << "attnbench compare: " << e.what() << "\n";
    return 2;
  }
  const std::vector<std::filesystem::path> base_rounds(args.baseline_rounds.begin(),
                                                       args.baseline_rounds.end());
  const std::vector<std::filesystem::path> cur_rounds(args.current_rounds.begin(), args.current_rounds.end());
  CompareOutcome outcome = compare_files(args.baseline, args.current, opt, base_rounds, cur_rounds);
  if (outcome.exit_code == 2) {
    err << "attnbench compare: " << outcome.error << "\n";
    return 2;
  }
  const CompareReport& rep = *outcome.report;
  for (const auto& w : rep.warnings) err << "attnbench compare: warning: " << w << "\n";
  const std::string md = render_compare_markdown(rep, args.md_max_rows);
  try {
    if (!args.md_path.empty()) write_text(args.md_path, md, "--md");
    if (!args.junit_path.empty()) write_text(args.junit_path, render_compare_junit(rep), "--junit");
  } catch (const InputError& e) {
    err << "attnbench compare: " << e.what() << "\n";
    return 2;
  }
  if (!args.quiet) out << md;
  err << fmt::format("attnbench compare: {} ({} rows, {} failing)\n", rep.failures ? "FAIL" : "PASS",
                     rep.rows.size(), rep.failures);
  return rep.exit_code();
}

void add_compare_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompareCommandArgs>();
  CLI::App* cmd = app.add_subcommand("compare",
                                     "Compare two results.json files; exit 0 when nothing regressed, 1 on a "
                                     "regression, 2 on bad input");
  cmd->add_option("baseline", args->baseline, "Baseline results.json")->required();
  cmd->add_option("current", args->current, "Current results.json")->required();
  cmd->add_option("--threshold", args->threshold_pct,
                  "Smallest relative change of the median time, in percent, that counts")
      ->capture_default_str();
  cmd->add_option("--noise-sigmas", args->noise_sigmas,
                  "k in the noise bar k * sqrt(noise_base^2 + noise_current^2)")
      ->capture_default_str();
  cmd->add_option("--fail-on", args->fail_on,
                  "Comma-separated classes that fail the comparison (faster, same, slower, "
                  "ambiguous, new, missing, broken, fixed, changed)")
      ->capture_default_str();
  cmd->add_option("--md", args->md_path, "Also write the Markdown report to FILE");
  cmd->add_option("--junit", args->junit_path, "Write JUnit XML (one test case per row) to FILE");
  cmd->add_option("--md-max-rows", args->md_max_rows,
                  "List at most N non-failing rows in the Markdown (failing rows: all)")
      ->capture_default_str();
  cmd->add_option("--min-paired", args->min_paired_pct,
                  "Least share (percent) of baseline rows that must pair with a current row; fewer is "
                  "exit 2, naming what changed between the runs")
      ->capture_default_str();
  cmd->add_option("--baseline-round", args->baseline_rounds,
                  "Interleaved A/B: a further round's baseline results.json (repeatable; the i-th pairs "
                  "with the i-th --current-round)");
  cmd->add_option("--current-round", args->current_rounds,
                  "Interleaved A/B: a further round's current results.json (repeatable)");
  cmd->add_option("--confidence", args->confidence_pct,
                  "Confidence (percent) of the bootstrap interval of the median paired ratio (rounds)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print the Markdown report on stdout");
  cmd->footer("Rule: " + compare_rule_text(5.0, 2.0) +
              " (5 and 2 stand for --threshold and --noise-sigmas.)");
  cmd->callback([args, &exit_code] { exit_code = run_compare_command(*args, std::cout, std::cerr); });
}

}  // namespace attnbench
