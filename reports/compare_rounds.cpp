// Interleaved A/B for `attnbench compare`: paired ratios over rounds, the bootstrap interval of their
// median, and the refusal of runs that hardly pair (no silent passes).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "harness/schema/case_key.hpp"
#include "reports/case_label.hpp"
#include "reports/compare.hpp"

namespace attnbench {
namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Rows that are ok with a time, by case key.
std::unordered_map<std::string, double> ok_times(const RunFile& f) {
  std::unordered_map<std::string, double> out;
  for (const auto& r : f.rows)
    if (r.status == Status::ok && r.time_ms > 0.0) out.emplace(case_key(r), r.time_ms);
  return out;
}

// Re-judges one row on its paired ratios (see compare_rounds in compare.hpp).
void judge_on_rounds(RowComparison& rc, const std::vector<double>& ratios, const CompareOptions& opt) {
  const auto [lo, hi] = bootstrap_median_interval(ratios, opt.confidence_pct);
  const double t = opt.threshold_pct / 100.0;
  rc.rounds = ratios.size();
  rc.ratio = median_of(ratios);
  rc.change_pct = (rc.ratio - 1.0) * 100.0;
  rc.ci_low_pct = (lo - 1.0) * 100.0;
  rc.ci_high_pct = (hi - 1.0) * 100.0;
  rc.noise_bar_pct = std::numeric_limits<double>::quiet_NaN();  // the interval replaces it
  if (lo > 1.0 + t)
    rc.change = ChangeClass::slower;
  else if (hi < 1.0 - t)
    rc.change = ChangeClass::faster;
  else if (lo >= 1.0 - t && hi <= 1.0 + t)
    rc.change = ChangeClass::same;
  else
    rc.change = ChangeClass::ambiguous;
  rc.fails = opt.fail_on.count(rc.change) > 0;
}

// "a, b" of the values in `a` but not in `b`.
std::string only_in(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string s;
  for (const auto& x : a)
    if (!b.count(x)) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::pair<double, double> bootstrap_median_interval(const std::vector<double>& ratios, double confidence_pct,
                                                    int resamples) {
  if (ratios.empty()) return {std::nan(""), std::nan("")};
  std::mt19937_64 rng(0x5eed);  // fixed: the same files give the same report
  std::uniform_int_distribution<std::size_t> pick(0, ratios.size() - 1);
  std::vector<double> medians(static_cast<std::size_t>(resamples)), sample(ratios.size());
  for (auto& m : medians) {
    for (auto& x : sample) x = ratios[pick(rng)];
    m = median_of(sample);
  }
  std::sort(medians.begin(), medians.end());
  const double tail = (1.0 - confidence_pct / 100.0) / 2.0;
  const auto at = [&](double q) {
    const auto i =
        static_cast<std::size_t>(std::clamp(q * double(resamples - 1), 0.0, double(resamples - 1)));
    return medians[i];
  };
  return {at(tail), at(1.0 - tail)};
}

CompareReport compare_rounds(const std::vector<RunPair>& rounds, const CompareOptions& opt) {
  CompareReport rep = compare_runs(rounds.at(0).baseline, rounds.at(0).current, opt);
  if (rounds.size() < 2) return rep;
  std::vector<std::unordered_map<std::string, double>> base, cur;
  for (const auto& r : rounds) base.push_back(ok_times(r.baseline)), cur.push_back(ok_times(r.current));
  for (auto& rc : rep.rows) {
    if (!rc.baseline || !rc.current || rc.metric != "time") continue;
    if (rc.baseline->status != Status::ok || rc.current->status != Status::ok) continue;
    const std::string key = case_key(*rc.current);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < rounds.size(); ++i) {
      auto b = base[i].find(key), c = cur[i].find(key);
      if (b != base[i].end() && c != cur[i].end()) ratios.push_back(c->second / b->second);
    }
    if (ratios.size() >= opt.min_rounds) judge_on_rounds(rc, ratios, opt);
  }
  tally(rep);
  return rep;
}

std::string unpaired_error(const RunFile& baseline, const RunFile& current, const CompareReport& rep) {
  if (baseline.rows.empty()) return "";
  const std::size_t missing = rep.count(ChangeClass::missing);
  const std::size_t paired = baseline.rows.size() - std::min(missing, baseline.rows.size());
  const double pct = 100.0 * double(paired) / double(baseline.rows.size());
  if (pct >= rep.options.min_paired_pct) return "";
  // What the two runs' cases differ in, part by part of the case key.
  struct Part {
    const char* name;
    std::string (*of)(const ResultRow&);
  };
  static const Part parts[] = {
      {"backends", [](const ResultRow& r) { return r.backend; }},
      {"strategies", [](const ResultRow& r) { return fmt::format("{}x{}", r.strategy, r.world_size); }},
      {"masks", [](const ResultRow& r) { return row_mask_label(r); }},
      {"shapes",
       [](const ResultRow& r) {
         return fmt::format("B={} Hq={} Hkv={}{} Sq={} Sk={} D={}{}", r.batch, r.heads_q, r.heads_kv,
                            value_heads_field(r), r.seqlen_q, r.seqlen_k, r.head_dim, value_dim_field(r));
       }},
      {"dtypes", [](const ResultRow& r) { return r.dtype; }},
      {"passes", [](const ResultRow& r) { return r.pass; }},
      {"seeds", [](const ResultRow& r) { return std::to_string(r.seed); }},
  };
  std::string diff;
  for (const auto& part : parts) {
    std::set<std::string> b, c;
    for (const auto& r : baseline.rows) b.insert(part.of(r));
    for (const auto& r : current.rows) c.insert(part.of(r));
    const std::string gone = only_in(b, c), added = only_in(c, b);
    if (gone.empty() && added.empty()) continue;
    diff += fmt::format("; {}: baseline only [{}], current only [{}]", part.name, gone, added);
  }
  if (diff.empty()) diff = "; the cases differ in mask parameters or strategy options";
  return fmt::format(
      "{} and {}: only {} of {} baseline rows ({:.0f} %) pair with a current row (--min-paired "
      "{:g} %): the runs measured different cases{}",
      baseline.path, current.path, paired, baseline.rows.size(), pct, rep.options.min_paired_pct, diff);
}

}  // namespace attnbench
