// Shared wording of compare results (see compare_format.hpp).
#include "reports/compare_format.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace attnbench {

int change_class_rank(ChangeClass c) {
  switch (c) {
    case ChangeClass::slower: return 0;
    case ChangeClass::broken: return 1;
    case ChangeClass::ambiguous: return 2;
    case ChangeClass::changed: return 3;
    case ChangeClass::missing: return 4;
    case ChangeClass::added: return 5;
    case ChangeClass::fixed: return 6;
    case ChangeClass::faster: return 7;
    case ChangeClass::same: return 8;
  }
  return 9;
}

std::vector<const RowComparison*> rows_in_report_order(const CompareReport& rep) {
  std::vector<const RowComparison*> out;
  for (const auto& r : rep.rows) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const RowComparison* a, const RowComparison* b) {
    if (a->fails != b->fails) return a->fails;
    return change_class_rank(a->change) < change_class_rank(b->change);
  });
  return out;
}

std::string time_cell(const std::optional<ResultRow>& row) {
  if (!row) return "—";
  if (row->status != Status::ok) return std::string(to_string(row->status));
  if (const double n = counted_instructions(*row); n > 0) return fmt::format("{:.4g} M instr", n / 1e6);
  if (std::isnan(row->time_ms)) return "ok (no time)";
  return fmt::format("{:.4g} ms", row->time_ms);
}

std::string change_cell(const RowComparison& r) {
  return std::isnan(r.change_pct) ? "" : fmt::format("{:+.1f} %", r.change_pct);
}

std::string noise_bar_cell(const RowComparison& r) {
  if (r.rounds > 0)
    return fmt::format("CI {:+.1f}…{:+.1f} % ({} rounds)", r.ci_low_pct, r.ci_high_pct, r.rounds);
  if (r.metric == "instructions") return "0 (instructions)";
  return std::isnan(r.noise_bar_pct) ? "" : fmt::format("{:.1f} %", r.noise_bar_pct);
}

std::string class_cell(const RowComparison& r) {
  std::string name(to_string(r.change));
  if (r.baseline && r.current && r.baseline->status != r.current->status)
    return fmt::format("{} ({} → {})", name, to_string(r.baseline->status), to_string(r.current->status));
  if (!r.baseline && r.current->status != Status::ok)
    return fmt::format("{} ({})", name, to_string(r.current->status));
  return name;
}

std::string row_summary(const RowComparison& r, const CompareOptions& opt) {
  std::string s = class_cell(r);
  if (!std::isnan(r.change_pct))
    s += fmt::format(
        ": {} -> {}, change {:+.1f} %, threshold {:g} %, {}", time_cell(r.baseline), time_cell(r.current),
        r.change_pct, opt.threshold_pct,
        r.rounds > 0 ? "median paired ratio over " + noise_bar_cell(r) : "noise bar " + noise_bar_cell(r));
  else if (r.change == ChangeClass::missing)
    s += ": in the baseline only";
  else if (r.change == ChangeClass::added)
    s += ": in the current run only";
  if (r.current && !r.current->message.empty() && r.current->status != Status::ok)
    s += ": " + r.current->message;
  return s;
}

std::string geomean_text(const CompareReport& rep) {
  if (rep.timed_rows == 0) return "n/a";
  return fmt::format("{:.3f} ({:+.1f} %)", rep.geomean_ratio, (rep.geomean_ratio - 1.0) * 100.0);
}

std::string fail_on_text(const CompareOptions& opt) {
  std::string s;
  for (auto c : all_change_classes())
    if (opt.fail_on.count(c)) {
      if (!s.empty()) s += ",";
      s += to_string(c);
    }
  return s.empty() ? "(nothing)" : s;
}

}  // namespace attnbench
