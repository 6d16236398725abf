// Builds the row of one case: key columns from the case, timing statistics, the check against the reference.
#include "harness/case_row.hpp"

#include <fmt/format.h>

#include <fstream>

#include "harness/check.hpp"
#include "harness/stats.hpp"
#include "harness/traffic.hpp"

namespace attnbench {

bool should_check(const Scenario& s, const Problem& p) {
  return s.check.enabled && p.shape.seqlen_q <= s.check.max_seqlen && p.shape.seqlen_k <= s.check.max_seqlen;
}

namespace {

// An approximate backend's row is judged on O by its own tolerance (BackendInfo::tolerance_fwd), whatever
// check.tolerance_* says (those are for exact kernels): `mismatch` only past it, never for being
// approximate. Its error is also the `approx_rel_l2` column.
void apply_approximate_check(ResultRow& row, const BackendInfo& info, const Outputs& out,
                             const Outputs& ref) {
  const double tol = info.tolerance_fwd > 0 ? info.tolerance_fwd : 1.0;
  const CheckResult r = compare_output_o(out, ref, tol);
  row.max_abs_err = r.max_abs_err;
  row.rel_l2_err = r.rel_l2_err;
  row.extra.push_back({"approx_rel_l2", r.rel_l2_err, {}});
  if (!r.passed) {
    row.status = Status::mismatch;
    row.message = fmt::format(
        "approximate: rel L2 error of O {:.3g} exceeds {}'s own tolerance ({:.3g}; the LSE is not checked)",
        r.rel_l2_err, info.name, tol);
  }
}

}  // namespace

void apply_check(ResultRow& row, const Scenario& s, const BackendInfo& info, const Problem& p,
                 const Outputs* out, const Outputs* ref) {
  if (out == nullptr || ref == nullptr) {
    row.message = s.check.enabled
                      ? fmt::format("not checked: seqlen above check.max_seqlen ({})", s.check.max_seqlen)
                      : "not checked: check.enabled is false";
    return;
  }
  if (info.approximate && pass_has_forward(p.pass)) {
    apply_approximate_check(row, info, *out, *ref);
    return;
  }
  const double tf = s.check.tolerance_fwd > 0 ? s.check.tolerance_fwd
                    : info.tolerance_fwd > 0  ? info.tolerance_fwd
                                              : default_tolerance(p.dtype, false);
  const double tb = s.check.tolerance_bwd > 0 ? s.check.tolerance_bwd
                    : info.tolerance_bwd > 0  ? info.tolerance_bwd
                                              : default_tolerance(p.dtype, true);
  const CheckResult r = compare_outputs(*out, *ref, p.pass, tf, tb);
  row.max_abs_err = r.max_abs_err;
  row.rel_l2_err = r.rel_l2_err;
  if (!r.passed) {
    row.status = Status::mismatch;
    row.message = fmt::format("rel L2 error {:.3g} in {} exceeds the tolerance ({:.1g} fwd, {:.1g} bwd)",
                              r.rel_l2_err, r.worst, tf, tb);
  }
}

ResultRow base_row(const Case& c) {
  const Problem& p = c.problem;
  ResultRow r;
  r.backend = c.backend;
  r.strategy = p.strategy;
  r.world_size = p.world_size;
  r.mask = p.mask ? p.mask->name() : "";
  r.mask_params = p.mask ? p.mask->params_json() : "{}";
  r.seed = p.seed;
  r.batch = p.shape.batch;
  r.heads_q = p.shape.heads_q;
  r.heads_kv = p.shape.heads_kv;
  r.seqlen_q = p.shape.seqlen_q;
  r.seqlen_k = p.shape.seqlen_k;
  r.head_dim = p.shape.head_dim;
  r.dtype = std::string(to_string(p.dtype));
  r.pass = std::string(to_string(p.pass));
  r.area = p.area();
  r.density = p.density();
  r.extra.push_back({"heads_k", static_cast<double>(p.shape.heads_k()), {}});
  r.extra.push_back({"heads_v", static_cast<double>(p.shape.value_heads()), {}});
  r.extra.push_back({"head_dim_v", static_cast<double>(p.shape.value_dim()), {}});
  r.extra.push_back({"gflop", pass_flops(p) / 1e9, {}});
  r.extra.push_back({"bytes", pass_bytes(p), {}});
  if (c.inputs.mqar()) r.extra.push_back({"inputs", ResultRow::nan, c.inputs.json()});
  if (p.bias) r.extra.push_back({"bias", ResultRow::nan, p.bias->label()});
  if (!c.layout.empty()) {  // batching: the layout and what padding costs a dense kernel
    r.extra.push_back({"layout", ResultRow::nan, c.layout});
    r.extra.push_back({"padded_area", static_cast<double>(c.padded_area), {}});
    r.extra.push_back({"padding_waste",
                       c.padded_area > 0
                           ? 1.0 - static_cast<double>(r.area) / static_cast<double>(c.padded_area)
                           : ResultRow::nan,
                       {}});
  }
  if (!p.options.empty()) {
    std::string o = "{";
    for (const auto& [k, v] : p.options) o += (o.size() > 1 ? "," : "") + fmt::format("\"{}\":\"{}\"", k, v);
    r.extra.push_back({"options", ResultRow::nan, o + "}"});
  }
  return r;
}

void fill_timing(ResultRow& row, const Problem& p, const TimingResult& t) {
  const Summary s = summarize(t.seconds);
  row.time_ms = s.median * 1e3;
  row.time_ms_min = s.min * 1e3;
  row.time_ms_max = s.max * 1e3;
  row.noise_pct = s.noise * 100.0;
  row.iters = s.count;
  row.tflops = s.median > 0 ? pass_flops(p) / s.median / 1e12 : ResultRow::nan;
  row.extra.push_back({"time_ms_mean", s.mean * 1e3, {}});
  row.extra.push_back({"time_ms_stddev", s.stddev * 1e3, {}});
  row.extra.push_back({"time_ms_p20", s.p20 * 1e3, {}});
  row.extra.push_back({"time_ms_p80", s.p80 * 1e3, {}});
  row.extra.push_back({"stop_reason", ResultRow::nan, t.stop_reason});
  row.extra.push_back({"gbps", s.median > 0 ? pass_bytes(p) / s.median / 1e9 : ResultRow::nan, {}});
  if (!t.counter.empty()) {  // timing.metric instructions: what compare judges these rows by
    row.extra.push_back({"metric", ResultRow::nan, "instructions"});
    row.extra.push_back({"instructions", t.instructions, {}});
    row.extra.push_back({"counter", ResultRow::nan, t.counter});
  }
}

double default_memory_budget_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string key; in >> key;) {
    double kb = 0;
    in >> kb;
    if (key == "MemAvailable:") return kb * 1024.0 * 0.5;
    in.ignore(1 << 10, '\n');
  }
  return 4.0 * (1ull << 30);
}

}  // namespace attnbench
