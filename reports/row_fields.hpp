// A result row as (column, value) cells, shared by the CSV and JSON writers.
#pragma once

#include <string>
#include <vector>

#include "reports/result_row.hpp"

namespace attnbench {

// One cell: a number (NaN = missing), an integer, or text (raw JSON when `json`).
struct Cell {
  enum class Kind { number, integer, text, json } kind = Kind::text;
  double number = 0;
  long long integer = 0;
  std::string text;
};

// The required columns in order, then every extra metric of the row.
std::vector<std::pair<std::string, Cell>> row_cells(const ResultRow&);

}  // namespace attnbench
