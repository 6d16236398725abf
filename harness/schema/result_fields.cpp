// The one table of result columns (see result_fields.hpp); getters and setters bind each entry to ResultRow.
#include "harness/schema/result_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace attnbench {

Cell Cell::of_number(double v) { return {Kind::number, v, 0, {}}; }
Cell Cell::of_integer(long long v) { return {Kind::integer, ResultRow::nan, v, {}}; }
Cell Cell::of_text(std::string v) { return {Kind::text, ResultRow::nan, 0, std::move(v)}; }
Cell Cell::of_json(std::string v) { return {Kind::json, ResultRow::nan, 0, std::move(v)}; }

namespace {

using Kind = Cell::Kind;

double cell_number(const Cell& c) {
  if (c.kind == Kind::integer) return static_cast<double>(c.integer);
  return c.kind == Kind::number ? c.number : ResultRow::nan;
}

Field describe(std::string name, FieldType type, FieldRole role, std::string hint, bool key) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  f.role = role;
  f.hint = std::move(hint);
  f.key = key;
  return f;
}

// Required columns: a member of ResultRow each.
template <auto M>
Field text_col(std::string name, bool key, FieldType type = FieldType::text, std::string hint = {}) {
  Field f = describe(std::move(name), type, FieldRole::required, std::move(hint), key);
  if (type == FieldType::json) f.json_form = JsonForm::string;
  f.get = [type](const ResultRow& r) {
    return type == FieldType::json ? Cell::of_json(r.*M) : Cell::of_text(r.*M);
  };
  f.set = [](ResultRow& r, const Cell& c) { r.*M = c.text; };
  return f;
}

template <auto M>
Field int_col(std::string name, bool key, std::string hint = {}) {
  Field f = describe(std::move(name), FieldType::integer, FieldRole::required, std::move(hint), key);
  f.get = [](const ResultRow& r) { return Cell::of_integer(static_cast<long long>(r.*M)); };
  f.set = [](ResultRow& r, const Cell& c) {
    using T = std::remove_cvref_t<decltype(r.*M)>;
    r.*M = static_cast<T>(c.kind == Kind::integer ? c.integer : 0);
  };
  return f;
}

template <auto M>
Field num_col(std::string name, std::string hint = {}) {
  Field f = describe(std::move(name), FieldType::number, FieldRole::required, std::move(hint), false);
  f.get = [](const ResultRow& r) { return Cell::of_number(r.*M); };
  f.set = [](ResultRow& r, const Cell& c) { r.*M = cell_number(c); };
  return f;
}

Field status_col() {
  Field f = describe("status", FieldType::status, FieldRole::required, "enum", false);
  f.get = [](const ResultRow& r) { return Cell::of_text(std::string(to_string(r.status))); };
  f.set = [](ResultRow& r, const Cell& c) {
    const auto s = parse_status(c.text);
    if (!s)
      throw InputError(
          fmt::format("field 'status' is '{}' (accepted: {})", c.text, accepted_names<Status>()));
    r.status = *s;
  };
  return f;
}

// Standard extras: a Metric in ResultRow::extra each, absent when the row has none.
Field extra_col(std::string name, FieldType type, std::string hint, bool key = false) {
  Field f = describe(name, type, FieldRole::standard_extra, std::move(hint), key);
  // The options stay a string in results.json, as mask_params do.
  if (type == FieldType::json) f.json_form = JsonForm::string;
  f.get = [name, type](const ResultRow& r) -> Cell {
    const Metric* m = r.find_extra(name);
    if (m == nullptr) return {};
    switch (type) {
      case FieldType::text:
      case FieldType::status: return Cell::of_text(m->text);
      case FieldType::json: return Cell::of_json(m->text);
      case FieldType::integer:
        return std::isfinite(m->value) ? Cell::of_integer(std::llround(m->value)) : Cell{};
      case FieldType::number: return m->text.empty() ? Cell::of_number(m->value) : Cell::of_text(m->text);
    }
    return {};
  };
  f.set = [name, type, form = f.json_form](ResultRow& r, const Cell& c) {
    std::erase_if(r.extra, [&](const Metric& m) { return m.name == name; });
    if (c.kind == Kind::none) return;
    Metric m{name, cell_number(c), {}};
    if (type == FieldType::text || type == FieldType::json || type == FieldType::status) m.text = c.text;
    m.json = type == FieldType::json && form == JsonForm::native;
    r.extra.push_back(std::move(m));
  };
  return f;
}

// A shape column added after the required ones (heads_k, heads_v, head_dim_v): a key standard
// extra whose case key, when a row has none (files written before it), is its default from the
// row (heads_kv or head_dim), so those rows pair with new rows of the same case.
template <auto Fallback>
Field shape_extra_col(std::string name) {
  Field f = extra_col(name, FieldType::integer, "", /*key=*/true);
  // Called only when the row has no such column, so the default is the fallback itself.
  f.key_default = [](const ResultRow& r) { return Cell::of_integer(static_cast<long long>(r.*Fallback)); };
  return f;
}

std::vector<Field> make_table() {
  using R = ResultRow;
  return {
      // Required, in DESIGN.md's order.
      text_col<&R::backend>("backend", true),
      text_col<&R::strategy>("strategy", true),
      int_col<&R::world_size>("world_size", true, "ranks"),
      text_col<&R::mask>("mask", true),
      text_col<&R::mask_params>("mask_params", true, FieldType::json, "JSON object"),
      int_col<&R::seed>("seed", true),
      int_col<&R::batch>("batch", true),
      int_col<&R::heads_q>("heads_q", true),
      int_col<&R::heads_kv>("heads_kv", true),
      int_col<&R::seqlen_q>("seqlen_q", true, "tokens"),
      int_col<&R::seqlen_k>("seqlen_k", true, "tokens"),
      int_col<&R::head_dim>("head_dim", true),
      text_col<&R::dtype>("dtype", true),
      text_col<&R::pass>("pass", true),
      status_col(),
      num_col<&R::time_ms>("time_ms", "ms"),
      num_col<&R::time_ms_min>("time_ms_min", "ms"),
      num_col<&R::time_ms_max>("time_ms_max", "ms"),
      num_col<&R::noise_pct>("noise_pct", "%"),
      int_col<&R::iters>("iters", false),
      int_col<&R::area>("area", false, "pairs"),
      num_col<&R::density>("density", "fraction"),
      num_col<&R::tflops>("tflops", "TFLOP/s"),
      int_col<&R::peak_mem_bytes>("peak_mem_bytes", false, "bytes"),
      num_col<&R::max_abs_err>("max_abs_err"),
      num_col<&R::rel_l2_err>("rel_l2_err"),
      text_col<&R::message>("message", false),
      // Standard extras, in CSV order. Separate K and V heads and V's head dim (DESIGN.md
      // "Separate K and V heads and dims"): heads_kv is heads_k; absent, they read as
      // heads_k = heads_v = heads_kv and head_dim_v = head_dim.
      shape_extra_col<&R::heads_kv>("heads_k"),
      shape_extra_col<&R::heads_kv>("heads_v"),
      shape_extra_col<&R::head_dim>("head_dim_v"),
      extra_col("time_ms_mean", FieldType::number, "ms"),
      extra_col("time_ms_stddev", FieldType::number, "ms"),
      extra_col("time_ms_p20", FieldType::number, "ms"),
      extra_col("time_ms_p80", FieldType::number, "ms"),
      extra_col("stop_reason", FieldType::text, ""),
      extra_col("gflop", FieldType::number, "GFLOP"),
      extra_col("options", FieldType::json, "JSON object", /*key=*/true),
      // Additive score bias (DESIGN.md "Additive bias"): "alibi", "relpos{max_distance=128}"; absent: none.
      extra_col("bias", FieldType::text, "", /*key=*/true),
      extra_col("compute_ms", FieldType::number, "ms"),
      extra_col("comm_ms", FieldType::number, "ms"),
      extra_col("bytes_sent", FieldType::number, "bytes"),
      extra_col("imbalance", FieldType::number, "ratio"),
      extra_col("tflops_per_rank", FieldType::number, "TFLOP/s"),
      extra_col("bytes", FieldType::integer, "bytes"),  // minimum memory traffic (harness/traffic.hpp)
      extra_col("gbps", FieldType::number, "GB/s"),     // bytes / median time / 1e9
      // Scale-model rows (`attnbench model`, status modelled): DESIGN.md "Scale model".
      extra_col("exposed_comm_ms", FieldType::number, "ms"),
      extra_col("bytes_per_rank", FieldType::number, "bytes"),
      extra_col("tflops_per_gpu", FieldType::number, "TFLOP/s"),
      // timing.metric instructions (harness/instructions.hpp): per timed iteration, and by what.
      extra_col("metric", FieldType::text, ""),
      extra_col("instructions", FieldType::number, "instructions"),
      extra_col("counter", FieldType::text, ""),
      // Approximate attention (DESIGN.md "Dynamic and approximate attention"): ||O - O_exact|| / ||O_exact||
      // against exact float64 attention under the base mask; empty where not applicable.
      extra_col("approx_rel_l2", FieldType::number, "fraction"),
      // The MQAR probe (inputs kind mqar): the case's input generator, and the fraction of probe queries
      // whose output decodes to the right value. `inputs` is a key: rows of other pairs are other cases.
      extra_col("inputs", FieldType::json, "JSON object", /*key=*/true),
      extra_col("recall", FieldType::number, "fraction"),
      // Dynamic masks (DESIGN.md "Dynamic and approximate attention"; docs/dynamic.md "Selectors"): the
      // selection's median time, the quality of the selected mask against exact float64 attention under
      // its base mask (up to check.max_seqlen), and the base's label (`causal`), which pairs the row with
      // the dense base row in the reports. `approx_rel_l2` (above) is shared with the approximate backends.
      extra_col("select_ms", FieldType::number, "ms"),
      extra_col("attn_recall", FieldType::number, "fraction"),
      extra_col("base_mask", FieldType::text, ""),
      // Batches of their own lengths (DESIGN.md): the layout is part of the case (packed and padded
      // rows of one batch differ by it; rows from before it have none, which keys as ""); padded_area
      // counts the pairs a dense padded kernel computes, padding_waste = 1 - area / padded_area.
      extra_col("layout", FieldType::text, "", /*key=*/true),
      extra_col("padded_area", FieldType::integer, "pairs"),
      extra_col("padding_waste", FieldType::number, "fraction"),
  };
}

std::vector<std::string> names_where(bool (*keep)(const Field&)) {
  std::vector<std::string> out;
  for (const auto& f : result_fields())
    if (keep(f)) out.push_back(f.name);
  return out;
}

}  // namespace

const std::vector<Field>& result_fields() {
  static const std::vector<Field> table = make_table();
  return table;
}

const Field* find_field(std::string_view name) {
  for (const auto& f : result_fields())
    if (f.name == name) return &f;
  return nullptr;
}

const std::vector<std::string>& required_columns() {
  static const auto cols = names_where([](const Field& f) { return f.role == FieldRole::required; });
  return cols;
}

const std::vector<std::string>& standard_extra_columns() {
  static const auto cols = names_where([](const Field& f) { return f.role == FieldRole::standard_extra; });
  return cols;
}

const std::vector<std::string>& csv_columns() {
  static const auto cols = names_where([](const Field&) { return true; });
  return cols;
}

std::vector<std::pair<std::string, Cell>> row_cells(const ResultRow& r) {
  std::vector<std::pair<std::string, Cell>> cells;
  for (const auto& f : result_fields())
    if (f.role == FieldRole::required) cells.emplace_back(f.name, f.get(r));
  for (const auto& m : r.extra) {
    if (const Field* f = find_field(m.name)) {
      cells.emplace_back(m.name, f->get(r));
    } else if (m.json) {
      cells.emplace_back(m.name, Cell::of_json(m.text));
    } else {
      cells.emplace_back(m.name, m.text.empty() ? Cell::of_number(m.value) : Cell::of_text(m.text));
    }
  }
  return cells;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case Kind::number: return format_number(c.number);
    case Kind::integer: return std::to_string(c.integer);
    case Kind::text:
    case Kind::json: return c.text;
    case Kind::none: break;
  }
  return "";
}

Cell parse_cell_text(const Field& f, const std::string& text) {
  if (text.empty() &&
      (f.role == FieldRole::standard_extra || f.type == FieldType::integer || f.type == FieldType::number))
    return {};
  switch (f.type) {
    case FieldType::text:
    case FieldType::status: return Cell::of_text(text);
    case FieldType::json: return Cell::of_json(text);
    case FieldType::integer: {
      try {
        std::size_t used = 0;
        const long long n = std::stoll(text, &used);
        if (used == text.size()) return Cell::of_integer(n);
        const double d = std::stod(text, &used);  // "1024.0" from a float writer
        if (used == text.size() && std::floor(d) == d) return Cell::of_integer(static_cast<long long>(d));
      } catch (const std::exception&) {
      }
      throw InputError(fmt::format("field '{}' is '{}' (expected an integer)", f.name, text));
    }
    case FieldType::number: {
      if (text == "nan" || text == "NaN") return Cell::of_number(ResultRow::nan);
      try {
        std::size_t used = 0;
        const double d = std::stod(text, &used);
        if (used == text.size()) return Cell::of_number(d);
      } catch (const std::exception&) {
      }
      throw InputError(fmt::format("field '{}' is '{}' (expected a number or null)", f.name, text));
    }
  }
  return {};
}

}  // namespace attnbench
