// Readable names for masks and cases (see case_label.hpp).
#include "reports/case_label.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "harness/schema/case_key.hpp"

namespace attnbench {
namespace {

constexpr std::size_t kMaxListItems = 4;

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array() || v.size() <= kMaxListItems) return v.dump();
  // Long lists (explicit doc_lengths, slices) would swamp a table cell.
  std::string out = "[";
  for (std::size_t i = 0; i < kMaxListItems - 1; ++i) out += v[i].dump() + ",";
  return out + "...](" + std::to_string(v.size()) + ")";
}

std::string shape_text(const ResultRow& r) {
  std::string s = fmt::format("B{} {} S{}", r.batch, heads_text(r), r.seqlen_q);
  if (r.seqlen_k != r.seqlen_q) s += fmt::format("x{}", r.seqlen_k);
  return s + " " + head_dim_text(r);
}

}  // namespace

std::string row_mask_label(const ResultRow& r) {
  const Metric* b = r.find_extra("bias");
  const std::string mask = mask_label(r.mask, r.mask_params);
  return b != nullptr && !b->text.empty() && b->text != "none" ? mask + " + bias " + b->text : mask;
}

std::string heads_text(const ResultRow& r) {
  std::string s = fmt::format("H{}", r.heads_q);
  const std::int64_t hv = row_heads_v(r);
  if (r.heads_kv != r.heads_q || hv != r.heads_kv) s += fmt::format("/{}", r.heads_kv);
  if (hv != r.heads_kv) s += fmt::format("v{}", hv);
  return s;
}

std::string head_dim_text(const ResultRow& r) {
  const std::int64_t dv = row_head_dim_v(r);
  return dv != r.head_dim ? fmt::format("D{}v{}", r.head_dim, dv) : fmt::format("D{}", r.head_dim);
}

std::string value_heads_field(const ResultRow& r) {
  const std::int64_t hv = row_heads_v(r);
  return hv != r.heads_kv ? fmt::format(" Hv={}", hv) : "";
}

std::string value_dim_field(const ResultRow& r) {
  const std::int64_t dv = row_head_dim_v(r);
  return dv != r.head_dim ? fmt::format(" Dv={}", dv) : "";
}

std::string case_label(const ResultRow& r) {
  std::string who = r.backend;
  if (r.strategy != "none" || r.world_size != 1)
    who = fmt::format("{} {}×{}", r.backend, r.strategy, r.world_size);
  if (const Metric* o = r.find_extra("options")) {
    const std::string options = canonical_json(o->text);
    if (!options.empty() && options != "{}") who = mask_label(who, options);
  }
  return fmt::format("{} · {} · {} · {} {}", who, row_mask_label(r), shape_text(r), r.dtype, r.pass);
}

// per_head: each group's mask label and its key heads, "per_head{causal×4, streaming{sink=128,recent=256}×4}"
// (the fraction where the heads are not resolved), so groups that split the heads differently differ.
static std::string per_head_label(const nlohmann::json& groups) {
  std::string inner;
  for (const auto& g : groups) {
    if (!inner.empty()) inner += ", ";
    inner += mask_label(g.value("mask", std::string("?")), g.contains("params") ? g["params"].dump() : "{}");
    if (g.contains("heads_k"))
      inner += "×" + g["heads_k"].dump();
    else if (g.contains("fraction"))
      inner += "@" + g["fraction"].dump();
  }
  return "per_head{" + inner + "}";
}

std::string mask_label(const std::string& mask, const std::string& params_json) {
  auto params = nlohmann::json::parse(params_json.empty() ? "{}" : params_json, nullptr, false);
  if (params.is_discarded()) return params_json.empty() ? mask : mask + params_json;
  if (!params.is_object() || params.empty()) return mask;
  if (mask == "per_head" && params.contains("groups") && params["groups"].is_array())
    return per_head_label(params["groups"]);
  const bool sampled_docs = params.contains("distribution");
  std::string inner;
  for (const auto& [key, value] : params.items()) {
    if (sampled_docs && key == "doc_lengths") continue;
    if (!inner.empty()) inner += ",";
    inner += key + "=" + value_text(value);
  }
  return inner.empty() ? mask : mask + "{" + inner + "}";
}

}  // namespace attnbench
