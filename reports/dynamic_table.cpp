// Builds results.md's "Dynamic masks" table: each selector row beside the dense row of its base mask.
#include "reports/dynamic_table.hpp"

#include <fmt/format.h>

#include <cmath>
#include <tuple>

#include "reports/case_label.hpp"

namespace attnbench {

namespace {

std::string num(double x, const char* fmt_spec = "{:.3g}") {
  return std::isnan(x) ? std::string("—") : fmt::format(fmt::runtime(fmt_spec), x);
}

bool same_case(const ResultRow& a, const ResultRow& b) {
  return std::tie(a.backend, a.strategy, a.world_size, a.seed, a.batch, a.heads_q, a.heads_kv, a.seqlen_q,
                  a.seqlen_k, a.head_dim, a.dtype,
                  a.pass) == std::tie(b.backend, b.strategy, b.world_size, b.seed, b.batch, b.heads_q,
                                      b.heads_kv, b.seqlen_q, b.seqlen_k, b.head_dim, b.dtype, b.pass);
}

}  // namespace

std::string dynamic_markdown(const std::vector<ResultRow>& rows) {
  std::string md;
  for (const auto& r : rows) {
    const Metric* base = r.find_extra("base_mask");
    if (base == nullptr || base->text.empty()) continue;
    const ResultRow* dense = nullptr;
    for (const auto& d : rows)
      if (d.find_extra("base_mask") == nullptr && d.status == Status::ok && same_case(r, d) &&
          mask_label(d.mask, d.mask_params) == base->text)
        dense = &d;
    const bool ok = r.status == Status::ok;
    const double speedup =
        ok && dense != nullptr && r.time_ms > 0 ? dense->time_ms / r.time_ms : ResultRow::nan;
    if (md.empty())
      md = "\n## Dynamic masks: speed and quality\n\n"
           "| backend | selector | base | S | pass | density | time ms | select ms | base time ms | speed-up "
           "| "
           "attn_recall | approx_rel_l2 |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.backend,
        mask_label(r.mask, r.mask_params), base->text,
        r.seqlen_k == r.seqlen_q ? std::to_string(r.seqlen_q) : fmt::format("{}/{}", r.seqlen_q, r.seqlen_k),
        r.pass, num(r.density, "{:.4f}"), ok ? num(r.time_ms) : std::string(to_string(r.status)),
        num(r.extra_value("select_ms")), dense != nullptr ? num(dense->time_ms) : "—",
        std::isnan(speedup) ? "—" : fmt::format("{:.2f}×", speedup),
        num(r.extra_value("attn_recall"), "{:.4f}"), num(r.extra_value("approx_rel_l2"), "{:.4f}"));
  }
  if (!md.empty())
    md +=
        "\nSpeed-up: the dense base-mask row's time over the selected mask's (attention only; select ms is "
        "the selection, timed apart). attn_recall: softmax mass kept under the base; approx_rel_l2: "
        "||O_sel - O_base|| / ||O_base||; both float64 up to check.max_seqlen (docs/dynamic.md).\n";
  return md;
}

}  // namespace attnbench
