// Builds the "Speed and quality" section of results.md (see quality_table.hpp).
#include "reports/quality_table.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "reports/case_label.hpp"

namespace attnbench {

namespace {

std::string extra_text(const ResultRow& r, const std::string& name) {
  const Metric* m = r.find_extra(name);
  return m == nullptr || m->text == "{}" ? "" : m->text;
}

bool has_quality(const ResultRow& r) {
  return std::isfinite(r.extra_value("approx_rel_l2")) || std::isfinite(r.extra_value("attn_recall")) ||
         std::isfinite(r.extra_value("recall"));
}

bool is_exact(const ResultRow& r) {
  return r.find_extra("approx_rel_l2") == nullptr && r.find_extra("attn_recall") == nullptr;
}

auto same_case(const ResultRow& r) {
  return std::make_tuple(r.pass, r.mask, r.mask_params, r.seqlen_q, r.seqlen_k, r.batch, r.heads_q,
                         r.heads_kv, r.head_dim, r.dtype, r.seed, extra_text(r, "inputs"));
}

std::string number(double v, const char* spec = "{:.3g}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : "";
}

}  // namespace

long long pairs_of(const ResultRow& r) {
  const auto j = nlohmann::json::parse(extra_text(r, "inputs"), nullptr, false);
  return j.is_object() && j.contains("pairs") && j["pairs"].is_number_integer() ? j["pairs"].get<long long>()
                                                                                : 0;
}

std::string method_label(const ResultRow& r) {
  const std::string o = extra_text(r, "options");
  return o.empty() ? r.backend : mask_label(r.backend, o);
}

std::vector<QualityRow> quality_rows(const std::vector<ResultRow>& rows) {
  std::vector<QualityRow> out;
  for (const auto& r : rows) {
    if (r.strategy != "none" || !has_quality(r)) continue;
    QualityRow q{&r, nullptr, ResultRow::nan};
    for (const auto& e : rows)
      if (e.status == Status::ok && e.strategy == "none" && is_exact(e) && e.time_ms > 0 &&
          same_case(e) == same_case(r) && (q.exact == nullptr || e.time_ms < q.exact->time_ms))
        q.exact = &e;
    if (q.exact != nullptr && r.time_ms > 0) q.speedup = q.exact->time_ms / r.time_ms;
    out.push_back(q);
  }
  // Grouped as the reader compares them: by inputs, mask and length, methods side by side.
  std::stable_sort(out.begin(), out.end(), [](const QualityRow& a, const QualityRow& b) {
    return std::make_tuple(a.row->pass, pairs_of(*a.row), a.row->mask, a.row->seqlen_q) <
           std::make_tuple(b.row->pass, pairs_of(*b.row), b.row->mask, b.row->seqlen_q);
  });
  return out;
}

std::string quality_markdown(const std::vector<ResultRow>& rows) {
  const std::vector<QualityRow> q = quality_rows(rows);
  if (q.empty()) return "";
  bool pairs = false, attn = false, recall = false;
  for (const auto& x : q) {
    pairs = pairs || pairs_of(*x.row) > 0;
    attn = attn || std::isfinite(x.row->extra_value("attn_recall"));
    recall = recall || std::isfinite(x.row->extra_value("recall"));
  }
  std::string md =
      "\n## Speed and quality\n\nApproximate and dynamic rows (and every row of an MQAR probe) beside the "
      "fastest exact row of the same case: speed-up = its time / the row's time; `approx_rel_l2` = "
      "‖O − O_exact‖ / ‖O_exact‖ against float64 attention under the base mask";
  if (attn) md += "; `attn_recall` = softmax mass inside the selected mask";
  if (recall) md += "; `recall` = MQAR probes decoded to the right value";
  md += ".\n\n| pass | method | mask |";
  if (pairs) md += " pairs |";
  md += " S | status | time (ms) | speed-up | approx_rel_l2 |";
  if (attn) md += " attn_recall |";
  if (recall) md += " recall |";
  md += "\n|---|---|---|";
  if (pairs) md += "---:|";
  md += "---:|---|---:|---:|---:|";
  if (attn) md += "---:|";
  if (recall) md += "---:|";
  md += "\n";
  for (const auto& x : q) {
    const ResultRow& r = *x.row;
    md += fmt::format("| {} | {} | {} |", r.pass, method_label(r), mask_label(r.mask, r.mask_params));
    if (pairs) md += fmt::format(" {} |", pairs_of(r));
    md += fmt::format(" {} | {} | {} |", r.seqlen_q, to_string(r.status), number(r.time_ms));
    std::string speed = number(x.speedup, "{:.2f}×");
    if (!speed.empty() && x.exact != x.row) speed += fmt::format(" vs {}", x.exact->backend);
    md += fmt::format(" {} | {} |", x.exact == x.row ? "1 (exact)" : speed,
                      number(r.extra_value("approx_rel_l2")));
    if (attn) md += fmt::format(" {} |", number(r.extra_value("attn_recall")));
    if (recall) md += fmt::format(" {} |", number(r.extra_value("recall")));
    md += "\n";
  }
  return md;
}

}  // namespace attnbench
