// Reads an output folder's rows and scenario back (see folder_results.hpp).
#include "reports/folder_results.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "harness/schema/case_key.hpp"
#include "reports/csv_reader.hpp"
#include "reports/csv_writer.hpp"
#include "reports/durable_file.hpp"
#include "reports/json_reader.hpp"

namespace attnbench {

namespace fs = std::filesystem;

namespace {

// The length of the complete records of CSV text: up to the last newline outside a
// quoted cell. What follows was cut short by a kill (rows are appended one whole
// line per write, so only the last line can be cut).
std::size_t complete_length(const std::string& text) {
  bool quoted = false;
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"')
      quoted = !quoted;  // "" inside a quoted cell toggles twice
    else if (text[i] == '\n' && !quoted)
      end = i + 1;
  }
  return end;
}

// results.csv holds numbers to 6 significant digits; results.json holds them whole.
// A CSV row whose JSON twin reads the same in CSV form takes the JSON's numbers, so
// a resumed folder's results.json keeps its precision. A JSON that cannot be read is
// ignored here: the CSV alone decides which rows exist.
void with_json_precision(std::vector<ResultRow>& rows, const std::string& json) {
  std::error_code ec;
  if (rows.empty() || !fs::exists(json, ec)) return;
  std::map<std::string, ResultRow> exact;
  try {
    for (auto& r : read_results_json(json).rows) exact.emplace(case_key(r), std::move(r));
  } catch (const std::exception&) {
    return;
  }
  for (auto& r : rows)
    if (auto it = exact.find(case_key(r));
        it != exact.end() && CsvWriter::format_row(it->second) == CsvWriter::format_row(r))
      r = it->second;
}

}  // namespace

FolderResults read_folder_results(const std::string& dir) {
  FolderResults f;
  const std::string csv = (fs::path(dir) / "results.csv").string();
  const std::string json = (fs::path(dir) / "results.json").string();
  std::error_code ec;
  if (fs::exists(csv, ec)) {
    std::string text = read_report_file(csv, "results.csv");
    const std::size_t complete = complete_length(text);
    if (complete == 0 && !text.empty())
      throw InputError(
          fmt::format("{}: the header line is cut short ({} bytes, no newline): the file is "
                      "damaged; move it away to start the folder over",
                      csv, text.size()));
    f.cut_bytes = text.size() - complete;
    text.resize(complete);
    f.source = csv;
    if (!text.empty()) f.rows = parse_results_csv(text, csv);
    with_json_precision(f.rows, json);
    return f;
  }
  if (fs::exists(json, ec)) {
    f.rows = read_results_json(json).rows;
    f.source = json;
  }
  return f;
}

FolderScenario read_folder_scenario(const std::string& dir, bool strict) {
  FolderScenario s;
  const std::string sidecar = (fs::path(dir) / scenario_sidecar).string();
  const std::string json = (fs::path(dir) / "results.json").string();
  std::error_code ec;
  try {
    if (fs::exists(sidecar, ec)) {
      const auto j = nlohmann::json::parse(read_report_file(sidecar, scenario_sidecar));
      s.name = j.value("scenario_name", "");
      s.fingerprint = j.value("scenario_fingerprint", "");
      s.source = sidecar;
    } else if (fs::exists(json, ec)) {
      const ResultsFile r = read_results_json(json);
      for (const auto& [k, v] : r.context) {
        const auto parsed = nlohmann::json::parse(v, nullptr, false);
        if (!parsed.is_string()) continue;
        if (k == "scenario_name") s.name = parsed.get<std::string>();
        if (k == "scenario_fingerprint") s.fingerprint = parsed.get<std::string>();
      }
      if (!s.name.empty()) s.source = json;
    }
  } catch (const nlohmann::json::exception& e) {
    if (strict) throw InputError(fmt::format("{}: malformed JSON: {}", sidecar, e.what()));
  } catch (const InputError&) {
    if (strict) throw;
  }
  return s;
}

void write_folder_scenario(const std::string& dir, const FolderScenario& s) {
  nlohmann::ordered_json j;
  j["scenario_name"] = s.name;
  j["scenario_fingerprint"] = s.fingerprint;
  write_file_atomic((fs::path(dir) / scenario_sidecar).string(), j.dump(2) + "\n");
}

std::string scenario_fingerprint(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

}  // namespace attnbench
