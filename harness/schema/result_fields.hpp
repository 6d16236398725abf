// The field table of the result row: every column's name, type, unit, role and CSV/JSON form, in one place.
// The CSV, JSON and Markdown writers, the CSV and JSON readers and the case key all derive from it, so a
// new column is one entry here (plus the code that computes it).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// `status` is the one enum-typed column (values from all_values<Status>()).
enum class FieldType { text, integer, number, json, status };

// required: DESIGN.md's columns, first and in order in every CSV; every row has them.
// standard_extra: every CSV carries the column after the required ones (empty when
// the row has no such value); stored in ResultRow::extra. Any other extra (per-rank
// arrays, backend metrics) is an optional extra: JSON only, not in this table.
enum class FieldRole { required, standard_extra };

// How a json-typed column stands in results.json: embedded, or as a string that
// holds the JSON text (mask_params, options: rows then compare by text).
enum class JsonForm { native, string };

// One value of a column, independent of the file format.
struct Cell {
  enum class Kind { none, number, integer, text, json } kind = Kind::none;  // none: no value
  double number = ResultRow::nan;
  long long integer = 0;
  std::string text;

  static Cell of_number(double v);
  static Cell of_integer(long long v);
  static Cell of_text(std::string v);
  static Cell of_json(std::string v);
};

struct Field {
  std::string name;
  FieldType type = FieldType::text;
  FieldRole role = FieldRole::required;
  std::string hint;  // unit or display hint ("ms", "%", "bytes", "GB/s", "JSON object")
  bool key = false;  // part of the case key (required key columns must be in a file read back)
  JsonForm json_form = JsonForm::native;
  std::function<Cell(const ResultRow&)> get;         // Kind::none when the row has none
  std::function<void(ResultRow&, const Cell&)> set;  // throws InputError on a bad value
  // For a key extra added after files were written without it: the value the case key takes
  // when the row has none (heads_v: heads_kv), so old rows pair with new ones. Empty: none.
  std::function<Cell(const ResultRow&)> key_default;
};

// Required columns in order, then the standard extras in order.
const std::vector<Field>& result_fields();
const Field* find_field(std::string_view name);
// Column names by role, and both (the CSV header).
const std::vector<std::string>& required_columns();
const std::vector<std::string>& standard_extra_columns();
const std::vector<std::string>& csv_columns();

// The row as (column, cell) in results.json order: the required columns, then every
// extra in the row's own order (standard extras typed by the table, others by their Metric).
std::vector<std::pair<std::string, Cell>> row_cells(const ResultRow&);

// Double formatting shared by the writers: six significant digits, "" for NaN.
std::string format_number(double);
// The text of a cell in a CSV (and the form the CSV reader parses back).
std::string cell_text(const Cell&);
// Parses the text form of a column's value (a CSV cell, or a JSON string where a
// number was expected); "" is no value. Throws InputError "field 'x' is 'v' (expected ...)".
Cell parse_cell_text(const Field&, const std::string& text);

}  // namespace attnbench
