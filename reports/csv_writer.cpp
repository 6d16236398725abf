// CSV escaping (RFC 4180 quoting) and the column layout of results.csv, from the field table.
#include "reports/csv_writer.hpp"

#include <stdexcept>

namespace attnbench {

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

CsvWriter::CsvWriter(const std::string& path) : out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("cannot write " + path);
  out_ << header() << '\n';
  out_.flush();
}

std::string CsvWriter::header() {
  std::string h;
  for (const auto& c : csv_columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

std::string CsvWriter::format_row(const ResultRow& r) {
  std::string line;
  bool first = true;
  for (const auto& f : result_fields()) {
    line += (first ? "" : ",") + csv_escape(cell_text(f.get(r)));
    first = false;
  }
  return line;
}

void CsvWriter::write(const ResultRow& r) {
  out_ << format_row(r) << '\n';
  out_.flush();
}

}  // namespace attnbench
