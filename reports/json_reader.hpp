// Reads a results.json back into rows and context (for --resume and the comparator).
#pragma once

#include <string>
#include <vector>

#include "reports/json_writer.hpp"
#include "reports/result_row.hpp"

namespace attnbench {

struct ResultsFile {
  int schema_version = 0;
  Context context;  // (key, JSON text)
  std::vector<ResultRow> rows;
};

// Throws InputError naming the file on a missing file, malformed JSON or a
// document that is not a results file (no "results" array, unknown status...).
ResultsFile read_results_json(const std::string& path);

}  // namespace attnbench
