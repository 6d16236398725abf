// results.json: {"schema_version", "context", "results"} with the same keys as the CSV.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

constexpr int results_schema_version = 1;

// Context entries as (key, JSON text) so numbers stay numbers.
using Context = std::vector<std::pair<std::string, std::string>>;

std::string results_json(const Context&, const std::vector<ResultRow>&);
// Writes atomically (write_file_atomic: temporary file, fsync, rename), so a reader or a
// later --resume never sees half a file; OutputError names the path on failure.
void write_results_json(const std::string& path, const Context&, const std::vector<ResultRow>&);

}  // namespace attnbench
