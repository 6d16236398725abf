// CSV escaping (RFC 4180 quoting) and column layout of results.csv.
#include "reports/csv_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "reports/row_fields.hpp"

namespace attnbench {

namespace {

std::string escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Built once: every row is laid out against it.
const std::vector<std::string>& all_columns() {
  static const std::vector<std::string> cols = [] {
    auto c = required_columns();
    const auto& extra = standard_extra_columns();
    c.insert(c.end(), extra.begin(), extra.end());
    return c;
  }();
  return cols;
}

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::number: return format_number(c.number);
    case Cell::Kind::integer: return std::to_string(c.integer);
    default: return c.text;
  }
}

}  // namespace

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

CsvWriter::CsvWriter(const std::string& path) : out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("cannot write " + path);
  out_ << header() << '\n';
  out_.flush();
}

std::string CsvWriter::header() {
  std::string h;
  for (const auto& c : all_columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

std::string CsvWriter::format_row(const ResultRow& r) {
  const auto cells = row_cells(r);
  std::string line;
  bool first = true;
  for (const auto& col : all_columns()) {
    std::string value;
    for (const auto& [name, cell] : cells)
      if (name == col) {
        value = cell_text(cell);
        break;
      }
    line += (first ? "" : ",") + escape(value);
    first = false;
  }
  return line;
}

void CsvWriter::write(const ResultRow& r) {
  out_ << format_row(r) << '\n';
  out_.flush();
}

}  // namespace attnbench
