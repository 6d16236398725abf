// The Markdown report of `attnbench compare` (see compare_markdown.hpp).
#include "reports/compare_markdown.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "reports/compare_format.hpp"

namespace attnbench {
namespace {

// Table cells must not break the row: escape pipes, fold newlines, bound the length.
std::string cell(std::string s, std::size_t max_len = 120) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  if (out.size() > max_len) out = out.substr(0, max_len) + "...";
  return out;
}

std::string revision(const std::string& context_json) {
  auto ctx = nlohmann::json::parse(context_json, nullptr, false);
  if (ctx.is_object())
    if (auto it = ctx.find("git_revision"); it != ctx.end() && it->is_string())
      return fmt::format(" (rev `{}`)", it->get<std::string>());
  return "";
}

void table_header(std::string& out) {
  out += "| case | baseline | current | change | noise bar | class |\n";
  out += "|---|---:|---:|---:|---:|---|\n";
}

void table_row(std::string& out, const RowComparison& r) {
  std::string what = class_cell(r);
  if (r.current && r.current->status != Status::ok && !r.current->message.empty() &&
      (!r.baseline || r.baseline->status != r.current->status))
    what += ": " + r.current->message;
  out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", cell(r.label), time_cell(r.baseline),
                     time_cell(r.current), change_cell(r), noise_bar_cell(r), cell(what));
}

}  // namespace

std::string render_compare_markdown(const CompareReport& rep, std::size_t max_other_rows) {
  std::string out;
  const std::size_t n = rep.rows.size();
  if (rep.failures)
    out += fmt::format("## attnbench compare: FAIL, {} regression{} in {} rows\n\n", rep.failures,
                       rep.failures == 1 ? "" : "s", n);
  else
    out += fmt::format("## attnbench compare: PASS, no regression in {} rows\n\n", n);
  out +=
      fmt::format("Baseline `{}`{}, current `{}`{}.\n\n", rep.baseline_path,
                  revision(rep.baseline_context_json), rep.current_path, revision(rep.current_context_json));
  std::size_t counted = 0, paired = 0, rounds = 0;
  for (const auto& r : rep.rows) {
    counted += r.metric == "instructions";
    if (r.rounds > 0) ++paired, rounds = std::max(rounds, r.rounds);
  }
  // Which metric judged the rows: a reader of a gate result must know what it rests on.
  if (counted > 0 || paired > 0) {
    std::vector<std::string> parts;
    if (counted > 0)
      parts.push_back(
          fmt::format("{} rows on instructions retired per iteration (deterministic: the "
                      "threshold alone)",
                      counted));
    if (paired > 0)
      parts.push_back(
          fmt::format("{} rows on the median paired time ratio of up to {} interleaved rounds "
                      "({:g} % bootstrap interval)",
                      paired, rounds, rep.options.confidence_pct));
    if (counted + paired < n)
      parts.push_back(fmt::format("{} on one pair of times or statuses", n - counted - paired));
    out += fmt::format("Judged by: {}.\n\n", fmt::join(parts, "; "));
  }
  for (const auto& w : rep.warnings) out += fmt::format("> **Warning:** {}\n", cell(w, 400));
  if (!rep.warnings.empty()) out += "\n";

  out += "| class | rows |\n|---|---:|\n";
  auto classes = all_change_classes();
  std::stable_sort(classes.begin(), classes.end(),
                   [](ChangeClass a, ChangeClass b) { return change_class_rank(a) < change_class_rank(b); });
  for (auto c : classes)
    if (auto k = rep.count(c))
      out += fmt::format("| {}{} | {} |\n", to_string(c), rep.options.fail_on.count(c) ? " (fails)" : "", k);
  out += fmt::format("| geometric mean of time ratios, current / baseline ({} rows) | {} |\n\n",
                     rep.timed_rows, geomean_text(rep));

  const auto ordered = rows_in_report_order(rep);
  std::size_t shown = 0;
  if (rep.failures) {
    out += fmt::format("### Regressions (fail on: {})\n\n", fail_on_text(rep.options));
    table_header(out);
    for (const auto* r : ordered)
      if (r->fails) table_row(out, *r), ++shown;
    out += "\n";
  }
  if (shown < n) {
    out += fmt::format("<details><summary>{} rows ({})</summary>\n\n", rep.failures ? "Other" : "All",
                       n - shown);
    table_header(out);
    std::size_t listed = 0;
    for (const auto* r : ordered)
      if (!r->fails && listed < max_other_rows) table_row(out, *r), ++listed;
    if (listed < n - shown)
      out += fmt::format(
          "| ... {} more rows, all `same` or later in this order: see the JUnit "
          "report or rerun with a larger --md-max-rows | | | | | |\n",
          n - shown - listed);
    out += fmt::format("| **geometric mean** ({} rows) | | | **{}** | | |\n", rep.timed_rows,
                       rep.timed_rows ? fmt::format("{:+.1f} %", (rep.geomean_ratio - 1.0) * 100.0) : "n/a");
    out += "\n</details>\n\n";
  }
  out += fmt::format("<sub>{} Fails on: {}.</sub>\n",
                     compare_rule_text(rep.options.threshold_pct, rep.options.noise_sigmas),
                     fail_on_text(rep.options));
  return out;
}

}  // namespace attnbench
