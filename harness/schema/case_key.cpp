// The case key and canonical JSON (see case_key.hpp).
#include "harness/schema/case_key.hpp"

#include <nlohmann/json.hpp>

#include "harness/schema/result_fields.hpp"

namespace attnbench {

std::string canonical_json(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed.dump();  // nlohmann::json keeps object keys sorted
}

std::string case_key(const ResultRow& r) {
  std::string key;
  for (const auto& f : result_fields()) {
    if (!f.key) continue;
    Cell c = f.get(r);
    if (c.kind == Cell::Kind::none && f.key_default) c = f.key_default(r);
    std::string v = cell_text(c);
    if (f.type == FieldType::json) v = canonical_json(v);
    if (f.role == FieldRole::standard_extra && v == "{}") v.clear();  // no options = empty options
    key += v;
    key += '\x1f';
  }
  return key;
}

}  // namespace attnbench
