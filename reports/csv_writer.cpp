// CSV escaping (RFC 4180 quoting) and the column layout of results.csv, from the field table.
#include "reports/csv_writer.hpp"

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

namespace {
std::string initial_text(const std::vector<ResultRow>& rows) {
  std::string text = CsvWriter::header() + '\n';
  for (const auto& r : rows) text += CsvWriter::format_row(r) + '\n';
  return text;
}
}  // namespace

CsvWriter::CsvWriter(const std::string& path, const std::vector<ResultRow>& rows) {
  write_file_atomic(path, initial_text(rows));
  out_.open(path);
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

void CsvWriter::write(const ResultRow& r) { out_.append(format_row(r) + '\n'); }

void CsvWriter::close() {
  out_.sync();
  out_.close();
}

}  // namespace attnbench
