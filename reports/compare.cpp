// The comparator behind `attnbench compare`: loading, pairing and classifying rows (rule in compare_rule_text).
#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnbench/types.hpp"
#include "reports/case_label.hpp"

namespace attnbench {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ClassName {
  ChangeClass value;
  std::string_view name;
};
constexpr ClassName kClassNames[] = {
    {ChangeClass::faster, "faster"},   {ChangeClass::same, "same"},
    {ChangeClass::slower, "slower"},   {ChangeClass::ambiguous, "ambiguous"},
    {ChangeClass::added, "new"},       {ChangeClass::missing, "missing"},
    {ChangeClass::broken, "broken"},   {ChangeClass::fixed, "fixed"},
    {ChangeClass::changed, "changed"},
};

bool is_failing_status(const std::string& s) {
  return s == "mismatch" || s == "error" || s == "oom";
}

// A required key of row `index`; the message names the file, the row and the key.
const json& field(const json& row, const std::string& key, const std::string& where) {
  auto it = row.find(key);
  if (it == row.end())
    throw InputError(fmt::format("{}: field '{}' missing (results.json rows need every "
                                 "required column of DESIGN.md \"Result row\")",
                                 where, key));
  return *it;
}

std::string text_field(const json& row, const std::string& key, const std::string& where) {
  const json& v = field(row, key, where);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();  // numbers, objects, arrays: their JSON text
}

std::int64_t int_field(const json& row, const std::string& key, const std::string& where) {
  const json& v = field(row, key, where);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())
    return static_cast<std::int64_t>(v.get<double>());
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      auto n = std::stoll(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return n;
    } catch (const std::exception&) {
    }
  }
  throw InputError(fmt::format("{}: field '{}' is {} (expected an integer)", where, key, v.dump()));
}

// null stands for NaN in results.json; numbers in strings are accepted too.
double number_field(const json& row, const std::string& key, const std::string& where) {
  const json& v = field(row, key, where);
  if (v.is_null()) return kNaN;
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s == "nan" || s == "NaN") return kNaN;
    try {
      std::size_t used = 0;
      double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  throw InputError(fmt::format("{}: field '{}' is {} (expected a number or null)", where, key,
                               v.dump()));
}

std::string shape_text(const CompareRow& r) {
  std::string s = fmt::format("B{} H{}", r.batch, r.heads_q);
  if (r.heads_kv != r.heads_q) s += fmt::format("/{}", r.heads_kv);
  s += fmt::format(" S{}", r.seqlen_q);
  if (r.seqlen_k != r.seqlen_q) s += fmt::format("x{}", r.seqlen_k);
  return s + fmt::format(" D{}", r.head_dim);
}

std::string base_label(const CompareRow& r) {
  std::string who = r.backend;
  if (r.strategy != "none" || r.world_size != 1)
    who = fmt::format("{} {}×{}", r.backend, r.strategy, r.world_size);
  if (!r.options.empty()) who = mask_label(who, r.options);
  return fmt::format("{} · {} · {} · {} {}", who, mask_label(r.mask, r.mask_params),
                     shape_text(r), r.dtype, r.pass);
}

CompareRow parse_row(const json& row, const std::string& where) {
  if (!row.is_object()) throw InputError(fmt::format("{}: expected a JSON object", where));
  CompareRow r;
  r.backend = text_field(row, "backend", where);
  r.strategy = text_field(row, "strategy", where);
  r.world_size = int_field(row, "world_size", where);
  r.mask = text_field(row, "mask", where);
  r.mask_params = canonical_params(text_field(row, "mask_params", where));
  r.seed = text_field(row, "seed", where);
  r.batch = int_field(row, "batch", where);
  r.heads_q = int_field(row, "heads_q", where);
  r.heads_kv = int_field(row, "heads_kv", where);
  r.seqlen_q = int_field(row, "seqlen_q", where);
  r.seqlen_k = int_field(row, "seqlen_k", where);
  r.head_dim = int_field(row, "head_dim", where);
  r.dtype = text_field(row, "dtype", where);
  r.pass = text_field(row, "pass", where);
  r.status = text_field(row, "status", where);
  if (!parse_status(r.status))
    throw InputError(fmt::format("{}: field 'status' is '{}' (accepted: ok, unsupported, oom, "
                                 "error, mismatch, skipped, modelled)",
                                 where, r.status));
  r.time_ms = number_field(row, "time_ms", where);
  r.noise_pct = number_field(row, "noise_pct", where);
  if (auto it = row.find("message"); it != row.end() && it->is_string()) r.message = *it;
  // Strategy options (balance, ulysses_degree...) tell CP cases apart; optional column.
  if (auto it = row.find("options"); it != row.end() && !it->is_null())
    r.options = canonical_params(it->is_string() ? it->get<std::string>() : it->dump());
  if (r.options == "{}") r.options.clear();
  // The key: every identifying column, separated by a byte no value contains.
  r.key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
                      r.backend, r.strategy, r.world_size, r.mask, r.mask_params, r.seed, r.batch,
                      r.heads_q, r.heads_kv, r.seqlen_q, r.seqlen_k, r.head_dim, r.dtype, r.pass,
                      r.options);
  r.label = base_label(r);
  return r;
}

// Rows differing only in a hidden part of the key (the seed, a sampled
// parameter) would print alike: name the seed, then the full parameters.
void disambiguate_labels(std::vector<CompareRow>& rows) {
  for (int round = 0; round < 2; ++round) {
    std::map<std::string, std::set<std::string>> keys_by_label;
    for (const auto& r : rows) keys_by_label[r.label].insert(r.key);
    for (auto& r : rows) {
      if (keys_by_label[r.label].size() < 2) continue;
      r.label += round == 0 ? fmt::format(" · seed {}", r.seed) : " · " + r.mask_params;
    }
  }
}

std::string context_value(const json& ctx, const std::string& key) {
  auto it = ctx.find(key);
  if (it == ctx.end() || it->is_null()) return "(none)";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

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
    if (!c)
      throw InputError(fmt::format("--fail-on: unknown class '{}' (accepted: faster, same, "
                                   "slower, ambiguous, new, missing, broken, fixed, changed)",
                                   item));
    out.insert(*c);
  }
  return out;
}

RunFile parse_run_file(const std::string& text, const std::string& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line L, column C: ..."
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    throw InputError(fmt::format("{}: malformed JSON: {}", path, what));
  }
  if (!doc.is_object() || !doc.contains("results"))
    throw InputError(fmt::format("{}: field 'results' missing (expected a results.json of "
                                 "`attnbench run`: {{\"schema_version\": 1, \"context\": {{...}}, "
                                 "\"results\": [...]}})",
                                 path));
  if (auto v = doc.find("schema_version"); v != doc.end() && !(v->is_number() && *v == 1))
    throw InputError(fmt::format("{}: schema_version {} unsupported (accepted: 1)", path, v->dump()));
  const json& results = doc["results"];
  if (!results.is_array())
    throw InputError(fmt::format("{}: field 'results' is not a list", path));

  RunFile run;
  run.path = path;
  if (auto c = doc.find("context"); c != doc.end() && c->is_object()) run.context_json = c->dump();
  else run.context_json = "{}";
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < results.size(); ++i) {
    CompareRow row = parse_row(results[i], fmt::format("{}: results[{}]", path, i));
    if (auto it = index.find(row.key); it != index.end()) {
      // Keep the later row, as a resumed run would have it, and say so.
      run.warnings.push_back(fmt::format("{}: results[{}] repeats the case of an earlier row ({}); "
                                         "the later row is used",
                                         path, i, row.label));
      run.rows[it->second] = std::move(row);
      continue;
    }
    index.emplace(row.key, run.rows.size());
    run.rows.push_back(std::move(row));
  }
  disambiguate_labels(run.rows);
  return run;
}

RunFile load_run_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw InputError(fmt::format("{}: no such file (expected a results.json written by "
                                 "`attnbench run`)",
                                 path.string()));
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory (expected a results.json file)", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_run_file(text.str(), path.string());
}

RowComparison compare_rows(const std::optional<CompareRow>& baseline,
                           const std::optional<CompareRow>& current, const CompareOptions& opt) {
  RowComparison rc;
  rc.baseline = baseline;
  rc.current = current;
  rc.ratio = rc.change_pct = rc.noise_bar_pct = kNaN;
  if (!baseline) {
    rc.change = is_failing_status(current->status) ? ChangeClass::broken : ChangeClass::added;
  } else if (!current) {
    rc.change = ChangeClass::missing;
  } else if (baseline->status == "ok" && current->status == "ok") {
    const double nb = std::isnan(baseline->noise_pct) ? 0.0 : std::fabs(baseline->noise_pct);
    const double nc = std::isnan(current->noise_pct) ? 0.0 : std::fabs(current->noise_pct);
    rc.noise_bar_pct = opt.noise_sigmas * std::sqrt(nb * nb + nc * nc);
    if (!(baseline->time_ms > 0.0) || !(current->time_ms > 0.0)) {
      rc.change = ChangeClass::ambiguous;  // an ok row without a time cannot be judged
    } else {
      rc.ratio = current->time_ms / baseline->time_ms;
      rc.change_pct = (rc.ratio - 1.0) * 100.0;
      const double size = std::fabs(rc.change_pct);
      if (size <= opt.threshold_pct) rc.change = ChangeClass::same;
      else if (size <= rc.noise_bar_pct) rc.change = ChangeClass::ambiguous;
      else rc.change = rc.change_pct > 0 ? ChangeClass::slower : ChangeClass::faster;
    }
  } else if (baseline->status == current->status) {
    rc.change = ChangeClass::same;
  } else if (current->status == "ok") {
    rc.change = ChangeClass::fixed;
  } else if ((is_failing_status(current->status) && !is_failing_status(baseline->status)) ||
             (baseline->status == "ok" && current->status == "unsupported")) {
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
      out.push_back(fmt::format("context differs: {} is \"{}\" in the baseline, \"{}\" now; "
                                "timings may not be comparable",
                                k, va, vb));
  }
  return out;
}

std::size_t CompareReport::count(ChangeClass c) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [c](const RowComparison& r) { return r.change == c; }));
}

CompareReport compare_runs(const RunFile& baseline, const RunFile& current,
                           const CompareOptions& opt) {
  CompareReport rep;
  rep.baseline_path = baseline.path;
  rep.current_path = current.path;
  rep.baseline_context_json = baseline.context_json;
  rep.current_context_json = current.context_json;
  rep.options = opt;
  rep.warnings = context_differences(baseline.context_json, current.context_json);
  rep.warnings.insert(rep.warnings.end(), baseline.warnings.begin(), baseline.warnings.end());
  rep.warnings.insert(rep.warnings.end(), current.warnings.begin(), current.warnings.end());

  std::unordered_map<std::string, const CompareRow*> base_by_key;
  for (const auto& r : baseline.rows) base_by_key.emplace(r.key, &r);
  std::set<std::string> seen;
  for (const auto& c : current.rows) {
    std::optional<CompareRow> b;
    if (auto it = base_by_key.find(c.key); it != base_by_key.end()) b = *it->second;
    seen.insert(c.key);
    rep.rows.push_back(compare_rows(b, c, opt));
  }
  for (const auto& b : baseline.rows)
    if (!seen.count(b.key)) rep.rows.push_back(compare_rows(b, std::nullopt, opt));

  double log_sum = 0.0;
  for (const auto& r : rep.rows) {
    if (r.fails) ++rep.failures;
    if (std::isfinite(r.ratio) && r.ratio > 0.0) {
      log_sum += std::log(r.ratio);
      ++rep.timed_rows;
    }
  }
  rep.geomean_ratio = rep.timed_rows ? std::exp(log_sum / double(rep.timed_rows)) : kNaN;
  return rep;
}

CompareOutcome compare_files(const std::filesystem::path& baseline,
                             const std::filesystem::path& current, const CompareOptions& opt) {
  CompareOutcome out;
  try {
    if (!(opt.threshold_pct >= 0.0))
      throw InputError(fmt::format("--threshold: {} (accepted: a percentage >= 0)", opt.threshold_pct));
    if (!(opt.noise_sigmas >= 0.0))
      throw InputError(fmt::format("--noise-sigmas: {} (accepted: a number >= 0)", opt.noise_sigmas));
    RunFile b = load_run_file(baseline);
    RunFile c = load_run_file(current);
    out.report = compare_runs(b, c, opt);
    out.exit_code = out.report->exit_code();
  } catch (const InputError& e) {
    out.exit_code = 2;
    out.error = e.what();
    out.report.reset();
  }
  return out;
}

}  // namespace attnbench
