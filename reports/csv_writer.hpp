// results.csv: the field table's required columns first, in order, then its standard extras.
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_fields.hpp"
#include "reports/durable_file.hpp"

namespace attnbench {

class CsvWriter {
 public:
  // Replaces `path` atomically with the header (csv_columns() of the field table)
  // and `rows` (the rows a resumed folder keeps), then appends to it.
  explicit CsvWriter(const std::string& path, const std::vector<ResultRow>& rows = {});
  void write(const ResultRow&);  // one checked append of a whole line (OutputError on failure)
  void close();                  // fsync and a checked close
  static std::string header();
  static std::string format_row(const ResultRow&);

 private:
  AppendFile out_;
};

// RFC 4180 quoting of one cell (the CSV reader undoes it).
std::string csv_escape(const std::string&);

}  // namespace attnbench
