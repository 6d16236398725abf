// results.csv: required columns first, in order; each row appended and flushed as it finishes.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "reports/result_row.hpp"

namespace attnbench {

class CsvWriter {
 public:
  // Writes the header at once: required columns, then standard_extra_columns().
  explicit CsvWriter(const std::string& path);
  void write(const ResultRow&);  // appends and flushes
  static std::string header();
  static std::string format_row(const ResultRow&);

 private:
  std::ofstream out_;
};

// Double formatting shared by the writers: shortest form that round-trips, "" for NaN.
std::string format_number(double);

}  // namespace attnbench
