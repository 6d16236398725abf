// RFC 4180 parsing of results.csv; every cell goes through the field table's text form.
#include "reports/csv_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "harness/result_fields.hpp"
#include "reports/json_reader.hpp"

namespace attnbench {

namespace {

// Splits CSV text into records of cells: quoted cells may hold commas, quotes ("") and newlines.
std::vector<std::vector<std::string>> split_records(const std::string& text, const std::string& path) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string cell;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c != '"')
        cell += c;
      else if (i + 1 < text.size() && text[i + 1] == '"')
        cell += '"', ++i;
      else
        quoted = false;
      continue;
    }
    if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      record.push_back(std::move(cell)), cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) record.push_back(std::move(cell));
      if (!record.empty()) records.push_back(std::move(record));
      record.clear(), cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted) throw InputError(fmt::format("{}: malformed CSV: a quoted cell is not closed", path));
  if (any || !cell.empty()) record.push_back(std::move(cell));
  if (!record.empty()) records.push_back(std::move(record));
  return records;
}

}  // namespace

std::vector<ResultRow> parse_results_csv(const std::string& text, const std::string& path) {
  const auto records = split_records(text, path);
  if (records.empty()) throw InputError(fmt::format("{}: empty file (expected a results.csv header)", path));
  const auto& header = records[0];
  std::vector<const Field*> fields;
  for (const auto& name : header) fields.push_back(find_field(name));
  for (const auto& f : result_fields())
    if ((f.key && f.role == FieldRole::required) || f.type == FieldType::status)
      if (std::find(header.begin(), header.end(), f.name) == header.end())
        throw InputError(
            fmt::format("{}: header: field '{}' missing (results.csv needs every "
                        "required column of DESIGN.md \"Result row\")",
                        path, f.name));
  std::vector<ResultRow> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& rec = records[i];
    const std::string where = fmt::format("{}: row {}", path, i);
    if (rec.size() != header.size())
      throw InputError(fmt::format("{}: {} cells (the header has {})", where, rec.size(), header.size()));
    ResultRow r;
    for (std::size_t c = 0; c < rec.size(); ++c) {
      if (fields[c] == nullptr) {
        if (!rec[c].empty()) r.extra.push_back({header[c], ResultRow::nan, rec[c]});
        continue;
      }
      try {
        fields[c]->set(r, parse_cell_text(*fields[c], rec[c]));
      } catch (const InputError& e) {
        throw InputError(fmt::format("{}: {}", where, e.what()));
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<ResultRow> read_results_csv(const std::string& path) {
  return parse_results_csv(read_report_file(path, "results.csv"), path);
}

}  // namespace attnbench
