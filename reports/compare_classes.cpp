// The change classes of `attnbench compare`: their names, --fail-on parsing and the rule in words.
#include <fmt/format.h>

#include <sstream>

#include "attnbench/types.hpp"
#include "reports/compare.hpp"

namespace attnbench {
namespace {

struct ClassName {
  ChangeClass value;
  std::string_view name;
};
constexpr ClassName kClassNames[] = {
    {ChangeClass::faster, "faster"},       {ChangeClass::same, "same"},   {ChangeClass::slower, "slower"},
    {ChangeClass::ambiguous, "ambiguous"}, {ChangeClass::added, "new"},   {ChangeClass::missing, "missing"},
    {ChangeClass::broken, "broken"},       {ChangeClass::fixed, "fixed"}, {ChangeClass::changed, "changed"},
};

}  // namespace

std::string_view to_string(ChangeClass c) {
  for (const auto& n : kClassNames)
    if (n.value == c) return n.name;
  return "?";
}

std::optional<ChangeClass> parse_change_class(std::string_view s) {
  for (const auto& n : kClassNames)
    if (n.name == s) return n.value;
  if (s == "added") return ChangeClass::added;
  return std::nullopt;
}

const std::vector<ChangeClass>& all_change_classes() {
  static const std::vector<ChangeClass> all = [] {
    std::vector<ChangeClass> v;
    for (const auto& n : kClassNames) v.push_back(n.value);
    return v;
  }();
  return all;
}

std::string compare_rule_text(double threshold_pct, double noise_sigmas) {
  return fmt::format(
      "Rows are paired on the full case key. With both rows ok, change = (current median / "
      "baseline median - 1) * 100 % and noise bar = {k:g} * sqrt(noise_base^2 + noise_current^2), "
      "noise being each row's noise_pct (relative stddev of its iterations; null counts as 0). "
      "slower: change > {t:g} % and change > noise bar; faster: change < -{t:g} % and -change > "
      "noise bar; ambiguous: |change| > {t:g} % but within the noise bar; same otherwise. "
      "broken: now mismatch/error/oom where the baseline was not (or was absent), or ok -> "
      "unsupported; fixed: not ok -> ok; changed: other status changes; new/missing: in one "
      "run only.",
      fmt::arg("k", noise_sigmas), fmt::arg("t", threshold_pct));
}

std::set<ChangeClass> parse_fail_on(const std::string& list) {
  std::set<ChangeClass> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    auto c = parse_change_class(item);
    if (!c) {
      std::string accepted;
      for (auto k : all_change_classes())
        accepted += (accepted.empty() ? "" : ", ") + std::string(to_string(k));
      throw InputError(fmt::format("--fail-on: unknown class '{}' (accepted: {})", item, accepted));
    }
    out.insert(*c);
  }
  return out;
}

}  // namespace attnbench
