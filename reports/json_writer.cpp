// Serialises the context block and rows with nlohmann::ordered_json (keys in column order).
#include "reports/json_writer.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "harness/result_fields.hpp"

namespace attnbench {

namespace {

nlohmann::ordered_json parse_or_string(const std::string& text) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return text;
  }
}

// A cell as the field table says results.json holds it: null for no value or a
// non-finite number; json columns embedded, or kept as a string (mask_params, options).
nlohmann::ordered_json json_value(const std::string& name, const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::number:
      return std::isfinite(cell.number) ? nlohmann::ordered_json(cell.number) : nullptr;
    case Cell::Kind::integer: return cell.integer;
    case Cell::Kind::text: return cell.text;
    case Cell::Kind::json: {
      const Field* f = find_field(name);
      if (f && f->json_form == JsonForm::string) return cell.text;
      return parse_or_string(cell.text);
    }
    case Cell::Kind::none: break;
  }
  return nullptr;
}

}  // namespace

std::string results_json(const Context& context, const std::vector<ResultRow>& rows) {
  nlohmann::ordered_json doc;
  doc["schema_version"] = results_schema_version;
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  for (const auto& [k, v] : context) ctx[k] = parse_or_string(v);
  doc["context"] = ctx;
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json o;
    for (const auto& [name, cell] : row_cells(r)) o[name] = json_value(name, cell);
    results.push_back(o);
  }
  doc["results"] = results;
  return doc.dump(2);
}

void write_results_json(const std::string& path, const Context& context, const std::vector<ResultRow>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << results_json(context, rows) << '\n';
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace attnbench
