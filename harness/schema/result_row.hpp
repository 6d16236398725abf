// One result row: the unit every writer, reader, the comparator and the runner share (DESIGN.md "Result
// row"). Its columns, their types and their CSV/JSON forms are described once, in
// harness/schema/result_fields.hpp.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/types.hpp"

namespace attnbench {

struct ResultRow {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();

  std::string backend;
  std::string strategy = "none";
  int world_size = 1;
  std::string mask;
  std::string mask_params = "{}";  // resolved parameters, compact JSON
  std::uint64_t seed = 0;
  std::int64_t batch = 0, heads_q = 0, heads_kv = 0, seqlen_q = 0, seqlen_k = 0, head_dim = 0;
  std::string dtype;
  std::string pass;
  Status status = Status::ok;
  double time_ms = nan, time_ms_min = nan, time_ms_max = nan, noise_pct = nan;
  std::int64_t iters = 0;
  std::int64_t area = 0;
  double density = nan;
  double tflops = nan;
  std::int64_t peak_mem_bytes = 0;
  double max_abs_err = nan, rel_l2_err = nan;
  std::string message;
  // Columns after the required ones: statistics, stop reason, CP metrics... The
  // standard ones are typed by the field table; others appear in the JSON only.
  std::vector<Metric> extra;

  const Metric* find_extra(const std::string& name) const;
  Metric* find_extra(const std::string& name);
  // The value of a numeric extra column; NaN when the row has none (or it is a text column).
  double extra_value(const std::string& name) const;
};

// A shape column after the required ones (heads_k, heads_v, head_dim_v), or `fallback` when the row
// has none (files written before them): rows read as heads_k = heads_v = heads_kv, head_dim_v = head_dim.
std::int64_t shape_extra(const ResultRow&, const std::string& name, std::int64_t fallback);
std::int64_t row_heads_k(const ResultRow&);
std::int64_t row_heads_v(const ResultRow&);
std::int64_t row_head_dim_v(const ResultRow&);

}  // namespace attnbench
