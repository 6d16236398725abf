// Serialises the context block and rows with nlohmann::ordered_json (keys in column order).
#include "reports/json_writer.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "reports/row_fields.hpp"

namespace attnbench {

namespace {

nlohmann::ordered_json parse_or_string(const std::string& text) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return text;
  }
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
    for (const auto& [name, cell] : row_cells(r)) {
      switch (cell.kind) {
        case Cell::Kind::number:
          o[name] = std::isfinite(cell.number) ? nlohmann::ordered_json(cell.number) : nullptr;
          break;
        case Cell::Kind::integer: o[name] = cell.integer; break;
        case Cell::Kind::text: o[name] = cell.text; break;
        // mask_params stays a string (a JSON object as text), as in the CSV, so rows
        // compare by exact text; other raw JSON (per-rank arrays) is embedded.
        case Cell::Kind::json:
          o[name] = name == "mask_params" ? nlohmann::ordered_json(cell.text) : parse_or_string(cell.text);
          break;
      }
    }
    results.push_back(o);
  }
  doc["results"] = results;
  return doc.dump(2);
}

void write_results_json(const std::string& path, const Context& context,
                        const std::vector<ResultRow>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << results_json(context, rows) << '\n';
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace attnbench
