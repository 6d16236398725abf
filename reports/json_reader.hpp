// Reads a results.json back into rows and context, by the field table (for --resume and the comparator).
#pragma once

#include <string>
#include <vector>

#include "harness/result_row.hpp"
#include "reports/json_writer.hpp"

namespace attnbench {

struct ResultsFile {
  std::string path;
  int schema_version = 0;
  Context context;                  // (key, JSON text), in file order
  std::string context_json = "{}";  // the context object, compact JSON
  std::vector<ResultRow> rows;
};

// Throws InputError naming the file (and the row and field) on a missing file,
// malformed JSON, an unsupported schema_version, a row without a key column or
// status, or a value of the wrong type. Columns other than the key columns and
// status may be absent (they keep ResultRow's defaults); unknown keys become extras.
ResultsFile read_results_json(const std::string& path);
// The same from text already in memory (path is used in messages only).
ResultsFile parse_results_json(const std::string& text, const std::string& path);

// The text of a report file; InputError "PATH: no such file (expected a WHAT ...)",
// "is a directory" or "cannot be read" (shared with the CSV reader).
std::string read_report_file(const std::string& path, const std::string& what);

}  // namespace attnbench
