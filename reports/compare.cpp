// The comparator behind `attnbench compare`: pairing two runs on the case key and classifying each row
// (rule in compare_rule_text; names in compare_classes.cpp; loading in compare_load.cpp).
#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnbench/types.hpp"
#include "harness/schema/case_key.hpp"

namespace attnbench {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string context_value(const json& ctx, const std::string& key) {
  auto it = ctx.find(key);
  if (it == ctx.end() || it->is_null()) return "(none)";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

double counted_instructions(const ResultRow& r) {
  const Metric* metric = r.find_extra("metric");
  const Metric* n = r.find_extra("instructions");
  if (metric == nullptr || metric->text != "instructions" || n == nullptr) return kNaN;
  return n->value;
}

bool is_failing_status(Status s) { return s == Status::mismatch || s == Status::error || s == Status::oom; }

RowComparison compare_rows(const std::optional<ResultRow>& baseline, const std::optional<ResultRow>& current,
                           const CompareOptions& opt) {
  RowComparison rc;
  rc.baseline = baseline;
  rc.current = current;
  rc.ratio = rc.change_pct = rc.noise_bar_pct = kNaN;
  if (!baseline) {
    rc.change = is_failing_status(current->status) ? ChangeClass::broken : ChangeClass::added;
  } else if (!current) {
    rc.change = ChangeClass::missing;
  } else if (baseline->status == Status::ok && current->status == Status::ok &&
             counted_instructions(*baseline) > 0 && counted_instructions(*current) > 0) {
    rc.metric = "instructions";  // deterministic: the threshold alone judges
    rc.noise_bar_pct = 0.0;
    rc.ratio = counted_instructions(*current) / counted_instructions(*baseline);
    rc.change_pct = (rc.ratio - 1.0) * 100.0;
    if (std::fabs(rc.change_pct) <= opt.threshold_pct)
      rc.change = ChangeClass::same;
    else
      rc.change = rc.change_pct > 0 ? ChangeClass::slower : ChangeClass::faster;
  } else if (baseline->status == Status::ok && current->status == Status::ok) {
    const double nb = std::isnan(baseline->noise_pct) ? 0.0 : std::fabs(baseline->noise_pct);
    const double nc = std::isnan(current->noise_pct) ? 0.0 : std::fabs(current->noise_pct);
    rc.noise_bar_pct = opt.noise_sigmas * std::sqrt(nb * nb + nc * nc);
    if (!(baseline->time_ms > 0.0) || !(current->time_ms > 0.0)) {
      rc.change = ChangeClass::ambiguous;  // an ok row without a time cannot be judged
    } else {
      rc.ratio = current->time_ms / baseline->time_ms;
      rc.change_pct = (rc.ratio - 1.0) * 100.0;
      const double size = std::fabs(rc.change_pct);
      if (size <= opt.threshold_pct)
        rc.change = ChangeClass::same;
      else if (size <= rc.noise_bar_pct)
        rc.change = ChangeClass::ambiguous;
      else
        rc.change = rc.change_pct > 0 ? ChangeClass::slower : ChangeClass::faster;
    }
  } else if (baseline->status == current->status) {
    rc.change = ChangeClass::same;
  } else if (current->status == Status::ok) {
    rc.change = ChangeClass::fixed;
  } else if ((is_failing_status(current->status) && !is_failing_status(baseline->status)) ||
             (baseline->status == Status::ok && current->status == Status::unsupported)) {
    rc.change = ChangeClass::broken;
  } else {
    rc.change = ChangeClass::changed;
  }
  rc.fails = opt.fail_on.count(rc.change) > 0;
  return rc;
}

std::vector<std::string> context_differences(const std::string& baseline_context_json,
                                             const std::string& current_context_json) {
  static const std::vector<std::string> keys{"tool_version", "cpu_model",  "cores",   "gpu_model",
                                             "driver",       "build_type", "compiler"};
  const json a = json::parse(baseline_context_json, nullptr, false);
  const json b = json::parse(current_context_json, nullptr, false);
  std::vector<std::string> out;
  if (!a.is_object() || !b.is_object()) return out;
  for (const auto& k : keys) {
    auto va = context_value(a, k), vb = context_value(b, k);
    if (va != vb)
      out.push_back(
          fmt::format("context differs: {} is \"{}\" in the baseline, \"{}\" now; "
                      "timings may not be comparable",
                      k, va, vb));
  }
  return out;
}

std::size_t CompareReport::count(ChangeClass c) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [c](const RowComparison& r) { return r.change == c; }));
}

CompareReport compare_runs(const RunFile& baseline, const RunFile& current, const CompareOptions& opt) {
  CompareReport rep;
  rep.baseline_path = baseline.path;
  rep.current_path = current.path;
  rep.baseline_context_json = baseline.context_json;
  rep.current_context_json = current.context_json;
  rep.options = opt;
  rep.warnings = context_differences(baseline.context_json, current.context_json);
  rep.warnings.insert(rep.warnings.end(), baseline.warnings.begin(), baseline.warnings.end());
  rep.warnings.insert(rep.warnings.end(), current.warnings.begin(), current.warnings.end());

  std::unordered_map<std::string, std::size_t> base_by_key;
  for (std::size_t i = 0; i < baseline.rows.size(); ++i) base_by_key.emplace(case_key(baseline.rows[i]), i);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < current.rows.size(); ++i) {
    const std::string key = case_key(current.rows[i]);
    std::optional<ResultRow> b;
    if (auto it = base_by_key.find(key); it != base_by_key.end()) b = baseline.rows[it->second];
    seen.insert(key);
    rep.rows.push_back(compare_rows(b, current.rows[i], opt));
    rep.rows.back().label = current.labels[i];
  }
  for (std::size_t i = 0; i < baseline.rows.size(); ++i)
    if (!seen.count(case_key(baseline.rows[i]))) {
      rep.rows.push_back(compare_rows(baseline.rows[i], std::nullopt, opt));
      rep.rows.back().label = baseline.labels[i];
    }

  tally(rep);
  return rep;
}

void tally(CompareReport& rep) {
  rep.failures = rep.timed_rows = 0;
  double log_sum = 0.0;
  for (const auto& r : rep.rows) {
    if (r.fails) ++rep.failures;
    if (std::isfinite(r.ratio) && r.ratio > 0.0) {
      log_sum += std::log(r.ratio);
      ++rep.timed_rows;
    }
  }
  rep.geomean_ratio = rep.timed_rows ? std::exp(log_sum / double(rep.timed_rows)) : kNaN;
}

CompareOutcome compare_files(const std::filesystem::path& baseline, const std::filesystem::path& current,
                             const CompareOptions& opt,
                             const std::vector<std::filesystem::path>& baseline_rounds,
                             const std::vector<std::filesystem::path>& current_rounds) {
  CompareOutcome out;
  try {
    if (!(opt.threshold_pct >= 0.0))
      throw InputError(fmt::format("--threshold: {} (accepted: a percentage >= 0)", opt.threshold_pct));
    if (!(opt.noise_sigmas >= 0.0))
      throw InputError(fmt::format("--noise-sigmas: {} (accepted: a number >= 0)", opt.noise_sigmas));
    if (!(opt.min_paired_pct >= 0.0 && opt.min_paired_pct <= 100.0))
      throw InputError(
          fmt::format("--min-paired: {} (accepted: a percentage in [0, 100])", opt.min_paired_pct));
    if (baseline_rounds.size() != current_rounds.size())
      throw InputError(
          fmt::format("--baseline-round given {} times, --current-round {} times (accepted: "
                      "as many of each, round i pairs the i-th of both)",
                      baseline_rounds.size(), current_rounds.size()));
    std::vector<RunPair> rounds;
    rounds.push_back({load_run_file(baseline), load_run_file(current)});
    for (std::size_t i = 0; i < baseline_rounds.size(); ++i)
      rounds.push_back({load_run_file(baseline_rounds[i]), load_run_file(current_rounds[i])});
    out.report = compare_rounds(rounds, opt);
    if (std::string e = unpaired_error(rounds[0].baseline, rounds[0].current, *out.report); !e.empty())
      throw InputError(e);
    out.exit_code = out.report->exit_code();
  } catch (const InputError& e) {
    out.exit_code = 2;
    out.error = e.what();
    out.report.reset();
  }
  return out;
}

}  // namespace attnbench
