// The required column list and lookups on a result row.
#include "reports/result_row.hpp"

namespace attnbench {

const std::vector<std::string>& required_columns() {
  static const std::vector<std::string> cols = {
      "backend",   "strategy",  "world_size",  "mask",        "mask_params",    "seed",
      "batch",     "heads_q",   "heads_kv",    "seqlen_q",    "seqlen_k",       "head_dim",
      "dtype",     "pass",      "status",      "time_ms",     "time_ms_min",    "time_ms_max",
      "noise_pct", "iters",     "area",        "density",     "tflops",         "peak_mem_bytes",
      "max_abs_err", "rel_l2_err", "message"};
  return cols;
}

const std::vector<std::string>& standard_extra_columns() {
  static const std::vector<std::string> cols = {
      "time_ms_mean", "time_ms_stddev", "time_ms_p20", "time_ms_p80", "stop_reason", "gflop", "options",
      "compute_ms",   "comm_ms",        "bytes_sent",  "imbalance",   "tflops_per_rank"};
  return cols;
}

std::string case_key(const ResultRow& r) {
  const Metric* options = r.find_extra("options");
  std::string key = r.backend + '|' + r.strategy + '|' + std::to_string(r.world_size) + '|' + r.mask +
                    '|' + r.mask_params + '|' + std::to_string(r.seed);
  for (auto v : {r.batch, r.heads_q, r.heads_kv, r.seqlen_q, r.seqlen_k, r.head_dim})
    key += '|' + std::to_string(v);
  key += '|' + r.dtype + '|' + r.pass + '|' + (options ? options->text : std::string());
  return key;
}

const Metric* ResultRow::find_extra(const std::string& name) const {
  for (const auto& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace attnbench
