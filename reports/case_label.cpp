// Readable names for masks and cases (see case_label.hpp).
#include "reports/case_label.hpp"

#include <nlohmann/json.hpp>

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

}  // namespace

std::string canonical_params(const std::string& params_json) {
  auto parsed = nlohmann::json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return params_json;
  return parsed.dump();  // nlohmann::json keeps object keys sorted
}

std::string mask_label(const std::string& mask, const std::string& params_json) {
  auto params = nlohmann::json::parse(params_json.empty() ? "{}" : params_json, nullptr, false);
  if (params.is_discarded()) return params_json.empty() ? mask : mask + params_json;
  if (!params.is_object() || params.empty()) return mask;
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
