// The padding-waste table of results.md (see padding_table.hpp).
#include "reports/padding_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "harness/schema/result_fields.hpp"
#include "reports/case_label.hpp"
#include "reports/markdown_writer.hpp"

namespace attnbench {

namespace {

std::string layout_of(const ResultRow& r) {
  const Metric* m = r.find_extra("layout");
  return m ? m->text : "";
}

// The batch's lengths: doc_lengths of a packed row, lengths of a padded one.
std::vector<long long> lengths_of(const ResultRow& r) {
  const auto j = nlohmann::json::parse(r.mask_params, nullptr, /*allow_exceptions=*/false);
  std::vector<long long> out;
  if (j.is_discarded() || !j.is_object()) return out;
  for (const char* key : {"lengths", "doc_lengths"}) {
    if (!j.contains(key)) continue;
    auto v = j[key];
    if (v.is_string()) v = nlohmann::json::parse(v.get<std::string>(), nullptr, false);
    if (v.is_array())
      for (const auto& x : v)
        if (x.is_number_integer()) out.push_back(x.get<long long>());
  }
  return out;
}

std::string base_of(const ResultRow& r) {
  const std::string suffix = "_document";
  if (r.mask.size() > suffix.size() && r.mask.ends_with(suffix))
    return r.mask.substr(0, r.mask.size() - suffix.size());
  return r.mask;
}

std::string batch_text(const std::vector<long long>& l) {
  if (l.empty()) return "?";
  long long sum = 0;
  for (auto x : l) sum += x;
  const std::string list =
      l.size() <= 8 ? fmt::format("[{}]", fmt::join(l, ", ")) : fmt::format("{} sequences", l.size());
  return fmt::format("{} (count {}, max {}, sum {})", list, l.size(), *std::max_element(l.begin(), l.end()),
                     sum);
}

// Milliseconds without an exponent: "1572", "376", "0.0421".
std::string ms_text(double ms) { return ms >= 100 ? fmt::format("{:.0f}", ms) : fmt::format("{:.3g}", ms); }

// The case apart from its layout: rows equal here are the same batch run packed and padded.
std::string pair_key(const ResultRow& r) {
  const Metric* o = r.find_extra("options");
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", r.backend, r.pass, r.dtype, base_of(r),
                     fmt::join(lengths_of(r), ","), heads_text(r), head_dim_text(r), o ? o->text : "");
}

}  // namespace

std::string padding_waste_markdown(const std::vector<ResultRow>& rows) {
  std::vector<const ResultRow*> batched;
  for (const auto& r : rows)
    if (!layout_of(r).empty()) batched.push_back(&r);
  if (batched.empty()) return "";
  std::map<std::string, const ResultRow*> packed;
  for (const auto* r : batched)
    if (layout_of(*r) == "packed" && r->status == Status::ok) packed[pair_key(*r)] = r;
  std::string md =
      "\n## Padding waste\n\nBatches of their own lengths: `packed` runs them as one sequence of "
      "documents, `padded` pads each to the longest. `area` counts useful pairs (what `tflops` is "
      "computed from), `padded_area` what a dense padded kernel computes; padded/packed is the time of "
      "the padded row over the packed row of the same batch.\n\n"
      "| pass | backend | mask | lengths | shape | layout | area | padded_area | padding_waste | time (ms) "
      "| " +
      find_field("tflops")->hint + " | padded/packed |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto* r : batched) {
    const Metric* pa = r->find_extra("padded_area");
    const Metric* pw = r->find_extra("padding_waste");
    std::string ratio;
    if (layout_of(*r) == "padded" && r->status == Status::ok) {
      auto it = packed.find(pair_key(*r));
      if (it != packed.end() && it->second->time_ms > 0)
        ratio = fmt::format("{:.2f}×", r->time_ms / it->second->time_ms);
    }
    const bool ok = r->status == Status::ok;
    md += fmt::format("| {} | {} | {} | {} | {} {} | {} | {} | {} | {} | {} | {} | {} |\n", r->pass,
                      r->backend, base_of(*r), batch_text(lengths_of(*r)), heads_text(*r), head_dim_text(*r),
                      layout_of(*r), r->area, pa ? fmt::format("{:.0f}", pa->value) : "",
                      pw ? fmt::format("{:.1f} %", 100 * pw->value) : "",
                      ok ? ms_text(r->time_ms) : std::string(to_string(r->status)),
                      ok ? format_tflops(r->tflops) : "", ratio);
  }
  return md;
}

}  // namespace attnbench
