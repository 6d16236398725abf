// results.csv: the field table's required columns first, in order, then its standard extras.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "harness/schema/result_fields.hpp"

namespace attnbench {

class CsvWriter {
 public:
  // Writes the header at once: csv_columns() of the field table.
  explicit CsvWriter(const std::string& path);
  void write(const ResultRow&);  // appends and flushes
  static std::string header();
  static std::string format_row(const ResultRow&);

 private:
  std::ofstream out_;
};

// RFC 4180 quoting of one cell (the CSV reader undoes it).
std::string csv_escape(const std::string&);

}  // namespace attnbench
