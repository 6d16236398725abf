// Flattens a ResultRow into named cells in the contract's column order.
#include "reports/row_fields.hpp"

namespace attnbench {

namespace {
Cell num(double v) { return {Cell::Kind::number, v, 0, {}}; }
Cell integer(long long v) { return {Cell::Kind::integer, 0, v, {}}; }
Cell text(std::string v) { return {Cell::Kind::text, 0, 0, std::move(v)}; }
Cell json(std::string v) { return {Cell::Kind::json, 0, 0, std::move(v)}; }
}  // namespace

std::vector<std::pair<std::string, Cell>> row_cells(const ResultRow& r) {
  std::vector<std::pair<std::string, Cell>> c = {
      {"backend", text(r.backend)},
      {"strategy", text(r.strategy)},
      {"world_size", integer(r.world_size)},
      {"mask", text(r.mask)},
      {"mask_params", json(r.mask_params)},
      {"seed", integer(static_cast<long long>(r.seed))},
      {"batch", integer(r.batch)},
      {"heads_q", integer(r.heads_q)},
      {"heads_kv", integer(r.heads_kv)},
      {"seqlen_q", integer(r.seqlen_q)},
      {"seqlen_k", integer(r.seqlen_k)},
      {"head_dim", integer(r.head_dim)},
      {"dtype", text(r.dtype)},
      {"pass", text(r.pass)},
      {"status", text(std::string(to_string(r.status)))},
      {"time_ms", num(r.time_ms)},
      {"time_ms_min", num(r.time_ms_min)},
      {"time_ms_max", num(r.time_ms_max)},
      {"noise_pct", num(r.noise_pct)},
      {"iters", integer(r.iters)},
      {"area", integer(r.area)},
      {"density", num(r.density)},
      {"tflops", num(r.tflops)},
      {"peak_mem_bytes", integer(r.peak_mem_bytes)},
      {"max_abs_err", num(r.max_abs_err)},
      {"rel_l2_err", num(r.rel_l2_err)},
      {"message", text(r.message)},
  };
  for (const auto& m : r.extra) {
    if (m.json)
      c.emplace_back(m.name, json(m.text));
    else if (!m.text.empty())
      c.emplace_back(m.name, text(m.text));
    else
      c.emplace_back(m.name, num(m.value));
  }
  return c;
}

}  // namespace attnbench
