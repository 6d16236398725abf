// Modelled rows, validation pairing and recommendation tables of `attnbench model`.
#include "model/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

namespace attnbench::model {

namespace {

std::string json_array(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.0f}", i ? "," : "", v[i]);
  return s + "]";
}

std::string strategy_label(const ResultRow& r) {
  std::string s = r.strategy;
  if (const Metric* o = r.find_extra("options"); o && o->text != "{}") s += " " + o->text;
  return s;
}

// Mask parameters without the sampled document lengths (thousands of numbers at 1M tokens).
std::string short_params(const std::string& params) {
  try {
    auto j = nlohmann::json::parse(params);
    if (j.is_object()) j.erase("doc_lengths");
    return j.empty() ? "" : " " + j.dump();
  } catch (const nlohmann::json::exception&) {
    return " " + params;
  }
}

std::string group_of(const ResultRow& r) {
  return fmt::format("{}{} S={} P={} {}", r.mask, short_params(r.mask_params), r.seqlen_q, r.world_size,
                     r.pass);
}

}  // namespace

void fill_row(ResultRow& row, const CaseModel& m) {
  if (!m.supported) {
    row.status = Status::unsupported;
    row.message = m.reason;
    return;
  }
  row.status = Status::modelled;
  row.time_ms = row.time_ms_min = row.time_ms_max = m.time_ms;
  const Metric* g = row.find_extra("gflop");
  row.tflops = g && m.time_ms > 0 ? g->value / m.time_ms * 1e-3 : 0;
  row.message =
      m.profiled ? "modelled (kernel profile)" : "modelled (peak x attention_efficiency: no profile entry)";
  std::vector<double> bytes(m.rank_bytes.begin(), m.rank_bytes.end());
  row.extra.push_back({"compute_ms", m.compute_ms, {}});
  row.extra.push_back({"comm_ms", m.comm_ms, {}});
  row.extra.push_back({"exposed_comm_ms", m.exposed_comm_ms, {}});
  row.extra.push_back({"imbalance", m.imbalance, {}});
  row.extra.push_back({"bytes_per_rank", static_cast<double>(m.max_bytes()), {}});
  row.extra.push_back({"tflops_per_gpu", m.tflops_per_gpu, {}});
  if (!m.layout_note.empty()) row.extra.push_back({"cp_layout", ResultRow::nan, m.layout_note});
  // Per-rank arrays only for small worlds: 1024-rank rows would be mostly digits.
  if (bytes.size() <= 64) {
    row.extra.push_back({"rank_bytes_sent", ResultRow::nan, json_array(bytes), true});
    row.extra.push_back({"rank_area", ResultRow::nan, json_array(m.rank_area), true});
  }
}

int Validation::winners_same() const {
  return static_cast<int>(
      std::count_if(winners.begin(), winners.end(), [](const Winner& w) { return w.same; }));
}

Validation validate(const std::vector<ResultRow>& modelled, const std::vector<ResultRow>& measured,
                    double tie_pct) {
  std::map<std::string, const ResultRow*> by_key;
  for (const auto& r : modelled)
    if (r.status == Status::modelled) by_key[case_key(r)] = &r;
  Validation v;
  v.tie_pct = tie_pct;
  std::map<std::string, std::vector<std::pair<const ResultRow*, const ResultRow*>>>
      groups;  // measured, modelled
  double sum = 0;
  for (const auto& r : measured) {
    if (r.status != Status::ok || r.strategy == "none" || !(r.time_ms > 0)) continue;
    auto it = by_key.find(case_key(r));
    if (it == by_key.end()) continue;
    const ResultRow& m = *it->second;
    Validation::Pair p{fmt::format("{} {} {}", strategy_label(r), group_of(r), r.backend), r.time_ms,
                       m.time_ms, (m.time_ms - r.time_ms) / r.time_ms * 100};
    sum += std::abs(p.error_pct);
    v.pairs.push_back(p);
    groups[group_of(r)].emplace_back(&r, &m);
  }
  v.mape = v.pairs.empty() ? 0 : sum / static_cast<double>(v.pairs.size());
  for (auto& [g, rows] : groups) {
    // Stable: among equal modelled times the scenario's strategy order decides the first pick.
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.second->time_ms < b.second->time_ms; });
    const auto fastest_measured =
        std::min_element(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) { return a.first->time_ms < b.first->time_ms; });
    Validation::Winner w{g, strategy_label(*fastest_measured->first), {}, false, 0};
    const double tie_limit = rows.front().second->time_ms * (1 + tie_pct / 100);
    for (const auto& [meas, mod] : rows)
      if (mod->time_ms <= tie_limit) {
        w.modelled.push_back(strategy_label(*meas));
        w.same = w.same || meas == fastest_measured->first;
      }
    w.regret_pct = (rows.front().first->time_ms / fastest_measured->first->time_ms - 1) * 100;
    v.winners.push_back(w);
  }
  return v;
}

std::string validation_text(const Validation& v) {
  std::string s = "| case | measured ms | modelled ms | error % |\n|---|---:|---:|---:|\n";
  for (const auto& p : v.pairs)
    s += fmt::format("| {} | {:.3f} | {:.3f} | {:+.1f} |\n", p.label, p.measured_ms, p.modelled_ms,
                     p.error_pct);
  s += fmt::format(
      "\nMAPE: {:.1f} % over {} rows\n\n"
      "| group | measured fastest | modelled fastest (and ties within {:g} %) | same | regret % |\n"
      "|---|---|---|---|---:|\n",
      v.mape, v.pairs.size(), v.tie_pct);
  for (const auto& w : v.winners) {
    std::string picks = w.modelled.front();
    if (w.modelled.size() > 1)
      picks += fmt::format(" ({})", fmt::join(w.modelled.begin() + 1, w.modelled.end(), ", "));
    s += fmt::format("| {} | {} | {} | {} | {:.1f} |\n", w.group, w.measured, picks, w.same ? "yes" : "no",
                     w.regret_pct);
  }
  s += fmt::format(
      "\nFastest strategy: the measured fastest is the modelled fastest or tied with it in {} of {} "
      "groups\n",
      v.winners_same(), v.winners.size());
  return s;
}

std::string recommend_markdown(const std::vector<ResultRow>& rows) {
  std::map<std::string, std::vector<const ResultRow*>> groups;
  for (const auto& r : rows)
    if (r.status == Status::modelled) groups[group_of(r)].push_back(&r);
  std::string s =
      "| mask · seqlen · GPUs · pass | fastest | layout | ms | runner-up | ms | margin |\n"
      "|---|---|---|---:|---|---:|---:|\n";
  for (auto& [g, v] : groups) {
    std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->time_ms < b->time_ms; });
    const ResultRow& a = *v[0];
    const Metric* lay = a.find_extra("cp_layout");
    s += fmt::format("| {} | {} | {} | {:.3f} |", g, strategy_label(a), lay ? lay->text : "", a.time_ms);
    if (v.size() > 1)
      s += fmt::format(" {} | {:.3f} | {:.1f} % |\n", strategy_label(*v[1]), v[1]->time_ms,
                       (v[1]->time_ms / a.time_ms - 1) * 100);
    else
      s += " — | | |\n";
  }
  return s;
}

}  // namespace attnbench::model
