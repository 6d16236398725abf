// Reads a results.csv back into rows by the field table (the CSV counterpart of json_reader.hpp).
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// Throws InputError naming the file, the line and the field on a missing file, a
// header without a key column or status, a row with the wrong cell count or a bad
// value. Empty standard-extra cells mean the row has no such value; columns the
// table does not know become text extras.
std::vector<ResultRow> read_results_csv(const std::string& path);
// The same from text already in memory (path is used in messages only).
std::vector<ResultRow> parse_results_csv(const std::string& text, const std::string& path);

}  // namespace attnbench
