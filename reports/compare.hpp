// The comparator behind `attnbench compare`: pairs the rows of two results.json files and classifies each
// change.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// What happened to one case between the baseline and the current run.
enum class ChangeClass {
  faster,     // both ok, time fell beyond the threshold and the noise
  same,       // both ok and within the threshold, or the same non-ok status twice
  slower,     // both ok, time grew beyond the threshold and the noise
  ambiguous,  // both ok, the change passes the threshold but not the noise (or no time)
  added,      // only in the current run, not failing ("new" in reports and --fail-on)
  missing,    // only in the baseline
  broken,     // status regression: now mismatch/error/oom where it was not, or ok -> unsupported
  fixed,      // recovery: was not ok, now ok
  changed,    // any other status change (ok -> skipped, error -> mismatch, ...)
};

std::string_view to_string(ChangeClass);
std::optional<ChangeClass> parse_change_class(std::string_view);  // accepts "new" for added
const std::vector<ChangeClass>& all_change_classes();

// The rule, in words, for --help and the reports (kept next to the code that applies it).
std::string compare_rule_text(double threshold_pct, double noise_sigmas);

struct CompareOptions {
  double threshold_pct = 5.0;
  // k in the noise bar k * sqrt(noise_base^2 + noise_current^2).
  double noise_sigmas = 2.0;
  std::set<ChangeClass> fail_on{ChangeClass::slower, ChangeClass::broken};
  // No silent passes: fewer baseline rows than this share (percent) pairing with a current
  // row is bad input (exit 2, naming what changed), not a pass with every row `missing`.
  double min_paired_pct = 50.0;
  // Interleaved rounds: the confidence level (percent) of the bootstrap interval of the
  // median paired ratio, and the rounds a row needs for it (fewer: the one-pair rule).
  double confidence_pct = 90.0;
  std::size_t min_rounds = 3;
};

// Parses "slower,broken" (comma separated class names); throws InputError.
std::set<ChangeClass> parse_fail_on(const std::string& list);

// One results.json file: its context block and rows (read by reports/json_reader), each
// with a readable label for the reports (unique within the file).
struct RunFile {
  std::string path;
  std::string context_json;  // the context object, compact JSON
  std::vector<ResultRow> rows;
  std::vector<std::string> labels;    // one per row
  std::vector<std::string> warnings;  // e.g. duplicate case keys
};

// Reads and validates a results.json; throws InputError naming the file and
// the field on a missing file, malformed JSON or a missing required key.
RunFile load_run_file(const std::filesystem::path& path);
// The same from text already in memory (path is used in messages only).
RunFile parse_run_file(const std::string& text, const std::string& path);

struct RowComparison {
  ChangeClass change = ChangeClass::same;
  std::optional<ResultRow> baseline, current;
  std::string label;           // the case's readable name (from the file that has it)
  double ratio = 0.0;          // current / baseline median time; NaN unless both ok with times
  double change_pct = 0.0;     // (ratio - 1) * 100
  double noise_bar_pct = 0.0;  // k * sqrt(noise_b^2 + noise_c^2)
  bool fails = false;          // its class is in --fail-on
  // "time", or "instructions" when both rows were counted (timing.metric instructions):
  // deterministic, so the threshold alone judges them (no noise bar).
  std::string metric = "time";
  // Interleaved rounds (compare_rounds): the paired ratios' count and the bootstrap interval
  // of their median, as changes in percent; rounds == 0 when judged on one pair.
  std::size_t rounds = 0;
  double ci_low_pct = 0.0, ci_high_pct = 0.0;

  const ResultRow& any_row() const { return current ? *current : *baseline; }
};

struct CompareReport {
  std::string baseline_path, current_path;
  std::string baseline_context_json, current_context_json;
  CompareOptions options;
  std::vector<std::string> warnings;  // context differences, duplicates
  std::vector<RowComparison> rows;    // current order, then missing rows in baseline order
  std::size_t timed_rows = 0;         // rows entering the geometric mean
  double geomean_ratio = 0.0;         // NaN when no row was timed in both
  std::size_t failures = 0;

  int exit_code() const { return failures > 0 ? 1 : 0; }
  std::size_t count(ChangeClass c) const;
};

// Classifies one pair of rows (either may be absent) under the options.
RowComparison compare_rows(const std::optional<ResultRow>& baseline, const std::optional<ResultRow>& current,
                           const CompareOptions&);

// Interleaved A/B: the same cases measured by both binaries in alternating rounds (round 0 is
// the pair compare_runs classifies). Rows ok and timed in at least min_rounds rounds are judged
// on their paired ratios, current / baseline of the same round: the median, and a bootstrap
// interval of it at confidence_pct. slower: the interval lies above 1 + threshold; faster: below
// 1 - threshold; same: within both; ambiguous: it straddles a threshold.
struct RunPair {
  RunFile baseline, current;
};
CompareReport compare_rounds(const std::vector<RunPair>& rounds, const CompareOptions&);

// The bootstrap interval (quantiles (1 - c) / 2 and (1 + c) / 2 of the resampled medians,
// c = confidence_pct / 100) of the median of `ratios`; fixed seed, so reports are reproducible.
std::pair<double, double> bootstrap_median_interval(const std::vector<double>& ratios, double confidence_pct,
                                                    int resamples = 4000);

// "" when enough baseline rows paired (options.min_paired_pct); else one line saying how few did
// and what differs between the runs' cases (backends, masks and their parameters, shapes,
// dtypes, passes, strategies, seeds), for exit 2.
std::string unpaired_error(const RunFile& baseline, const RunFile& current, const CompareReport&);

// Failures and the geometric mean of the ratios, from the rows' classes (after any re-judging).
void tally(CompareReport&);

// A row's instructions per iteration when it was counted (metric "instructions"), else NaN.
double counted_instructions(const ResultRow&);

// Whether a status counts as a failure (mismatch, error, oom).
bool is_failing_status(Status);

// Pairs two runs on the case key (harness/schema/case_key.hpp) and classifies every row.
CompareReport compare_runs(const RunFile& baseline, const RunFile& current, const CompareOptions&);

// Context keys whose difference makes timings hard to compare; a warning each.
std::vector<std::string> context_differences(const std::string& baseline_context_json,
                                             const std::string& current_context_json);

// Everything `attnbench compare` does short of printing: load, compare, render.
struct CompareOutcome {
  int exit_code = 2;  // 0 nothing regressed, 1 regression, 2 bad input
  std::string error;  // one line when exit_code == 2
  std::optional<CompareReport> report;
};
// More rounds of an interleaved A/B (baseline_rounds[i] pairs with current_rounds[i]), after the first pair.
CompareOutcome compare_files(const std::filesystem::path& baseline, const std::filesystem::path& current,
                             const CompareOptions&,
                             const std::vector<std::filesystem::path>& baseline_rounds = {},
                             const std::vector<std::filesystem::path>& current_rounds = {});

}  // namespace attnbench
