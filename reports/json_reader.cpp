// Parses results.json with nlohmann::ordered_json: table columns through the field table, other keys into
// extras.
#include "reports/json_reader.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/result_fields.hpp"

namespace attnbench {

namespace {

using json = nlohmann::ordered_json;

// One value as a cell of the field's type; strings holding numbers are accepted too.
Cell to_cell(const Field& f, const json& v) {
  if (v.is_null()) return {};
  switch (f.type) {
    case FieldType::text:
    case FieldType::status: return Cell::of_text(v.is_string() ? v.get<std::string>() : v.dump());
    case FieldType::json: return Cell::of_json(v.is_string() ? v.get<std::string>() : v.dump());
    case FieldType::integer:
      if (v.is_number_integer()) return Cell::of_integer(v.get<long long>());
      if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())
        return Cell::of_integer(static_cast<long long>(v.get<double>()));
      if (v.is_string()) return parse_cell_text(f, v.get<std::string>());
      throw InputError(fmt::format("field '{}' is {} (expected an integer)", f.name, v.dump()));
    case FieldType::number:
      if (v.is_number()) return Cell::of_number(v.get<double>());
      if (v.is_string()) return parse_cell_text(f, v.get<std::string>());
      throw InputError(fmt::format("field '{}' is {} (expected a number or null)", f.name, v.dump()));
  }
  return {};
}

Metric extra_metric(const std::string& key, const json& value) {
  if (value.is_number()) return {key, value.get<double>(), {}};
  if (value.is_string()) return {key, ResultRow::nan, value.get<std::string>()};
  if (value.is_null()) return {key, ResultRow::nan, {}};
  return {key, ResultRow::nan, value.dump(), true};
}

ResultRow parse_row(const json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(fmt::format("{}: expected a JSON object", where));
  ResultRow r;
  for (const auto& f : result_fields())
    if ((f.key && f.role == FieldRole::required) || f.type == FieldType::status)
      if (!j.contains(f.name))
        throw InputError(
            fmt::format("{}: field '{}' missing (results.json rows need every "
                        "required column of DESIGN.md \"Result row\")",
                        where, f.name));
  for (const auto& [key, value] : j.items()) {
    const Field* f = find_field(key);
    if (f == nullptr) {
      r.extra.push_back(extra_metric(key, value));
      continue;
    }
    try {
      f->set(r, to_cell(*f, value));
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", where, e.what()));
    }
  }
  return r;
}

}  // namespace

ResultsFile parse_results_json(const std::string& text, const std::string& path) {
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
    throw InputError(
        fmt::format("{}: field 'results' missing (expected a results.json of "
                    "`attnbench run`: {{\"schema_version\": {}, \"context\": {{...}}, "
                    "\"results\": [...]}})",
                    path, results_schema_version));
  ResultsFile f;
  f.path = path;
  if (auto v = doc.find("schema_version"); v != doc.end()) {
    if (!(v->is_number_integer() && *v == results_schema_version))
      throw InputError(fmt::format("{}: schema_version {} unsupported (accepted: {})", path, v->dump(),
                                   results_schema_version));
    f.schema_version = results_schema_version;
  }
  const json& results = doc["results"];
  if (!results.is_array()) throw InputError(fmt::format("{}: field 'results' is not a list", path));
  if (auto c = doc.find("context"); c != doc.end() && c->is_object()) {
    for (const auto& [k, v] : c->items()) f.context.emplace_back(k, v.dump());
    f.context_json = c->dump();
  }
  for (std::size_t i = 0; i < results.size(); ++i)
    f.rows.push_back(parse_row(results[i], fmt::format("{}: results[{}]", path, i)));
  return f;
}

std::string read_report_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw InputError(fmt::format("{}: no such file (expected a {} written by `attnbench run`)", path, what));
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory (expected a {} file)", path, what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ResultsFile read_results_json(const std::string& path) {
  return parse_results_json(read_report_file(path, "results.json"), path);
}

}  // namespace attnbench
