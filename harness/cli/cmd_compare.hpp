// The `attnbench compare` subcommand: CLI wiring around reports/compare.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace attnbench {

struct CompareCommandArgs {
  std::string baseline, current;
  double threshold_pct = 5.0;
  double noise_sigmas = 2.0;
  std::string fail_on = "slower,broken";
  std::string md_path, junit_path;
  std::size_t md_max_rows = 200;  // non-failing rows listed in the Markdown
  bool quiet = false;             // no Markdown on stdout (files and the verdict line only)
  double min_paired_pct = 50.0;
  double confidence_pct = 90.0;
  // Interleaved A/B: round i pairs baseline_rounds[i] with current_rounds[i].
  std::vector<std::string> baseline_rounds, current_rounds;
};

// Runs the comparison: Markdown on `out`, warnings and errors on `err`, the
// --md/--junit files written; returns the exit code (0 pass, 1 regression, 2 bad input).
int run_compare_command(const CompareCommandArgs&, std::ostream& out, std::ostream& err);

// Adds `compare BASELINE.json CURRENT.json [...]`; its callback stores the exit
// code (0, 1, 2) in `exit_code`, as every verb of run_cli does.
void add_compare_command(CLI::App& app, int& exit_code);

}  // namespace attnbench
