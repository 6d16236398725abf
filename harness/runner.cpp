// Runs each case in isolation and turns every outcome (ok, unsupported, oom, error, mismatch) into a row.
#include "harness/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <new>

#include "attnbench/registry.hpp"
#include "harness/case_data.hpp"
#include "harness/check.hpp"
#include "harness/dump.hpp"
#include "harness/stats.hpp"
#include "harness/timing.hpp"
#include "harness/traffic.hpp"

namespace attnbench {

namespace {

StrategyCaseRunner& strategy_runner() {
  static StrategyCaseRunner r;
  return r;
}

std::size_t input_bytes(const Inputs& in) {
  return (in.q.size() + in.k.size() + in.v.size() + in.dout.size()) * sizeof(float);
}

ResultRow run_single_device(const Case& c, const Scenario& s, const RunOptions& opt, CaseData& data,
                            ResultRow row) {
  Backend* backend = Registry::instance().find_backend(c.backend);
  const Problem& p = c.problem;
  if (backend == nullptr) {
    row.status = Status::error;
    row.message = "backend not registered: " + c.backend;
    return row;
  }
  const Support support = backend->supports(p);
  if (!support.ok) {
    row.status = Status::unsupported;
    row.message = support.reason;
    return row;
  }
  const BackendInfo info = backend->info();
  const auto budget = static_cast<std::size_t>(opt.memory_budget_bytes);
  MemoryTracker host(budget), device(budget);
  try {
    const Inputs& in = data.inputs(c);
    host.reserve(input_bytes(in));  // the inputs are live during the case: charge them
    Resources res{&host, info.device == Device::cpu ? &host : &device, nullptr, 0};
    auto exec = backend->prepare(p, in, res);
    const TimingResult t = measure(s.timing, [&] { return exec->timed_run(); });
    fill_timing(row, p, t);
    for (auto& m : exec->metrics()) row.extra.push_back(m);

    const bool check = should_check(s, p);
    Outputs out;
    if (check || !opt.dump_dir.empty()) exec->fetch_outputs(out);
    apply_check(row, s, info, p, check ? &out : nullptr, check ? &data.reference(c) : nullptr);
    if (!opt.dump_dir.empty()) {
      if (out.o.empty()) {  // a bwd pass: dump the forward o/lse its backward consumed
        const Outputs& ref = data.reference(c);
        out.o = ref.o;
        out.lse = ref.lse;
      }
      write_case_dump(opt.dump_dir, c, in, out);
    }
    row.peak_mem_bytes = static_cast<std::int64_t>(info.device == Device::cpu ? host.peak() : device.peak());
  } catch (const OutOfMemory& e) {
    row.status = Status::oom;
    row.message = e.what();
    row.peak_mem_bytes = static_cast<std::int64_t>(std::max(host.peak(), device.peak()));
  } catch (const std::bad_alloc&) {
    row.status = Status::oom;
    row.message = "allocation failed (std::bad_alloc)";
  } catch (const std::exception& e) {
    row.status = Status::error;
    row.message = e.what();
  }
  return row;
}

}  // namespace

bool should_check(const Scenario& s, const Problem& p) {
  return s.check.enabled && p.shape.seqlen_q <= s.check.max_seqlen &&
         p.shape.seqlen_k <= s.check.max_seqlen;
}

void apply_check(ResultRow& row, const Scenario& s, const BackendInfo& info, const Problem& p,
                 const Outputs* out, const Outputs* ref) {
  if (out == nullptr || ref == nullptr) {
    row.message = s.check.enabled
                      ? fmt::format("not checked: seqlen above check.max_seqlen ({})", s.check.max_seqlen)
                      : "not checked: check.enabled is false";
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

void set_strategy_case_runner(StrategyCaseRunner r) { strategy_runner() = std::move(r); }

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
  r.area = p.mask ? p.mask->area() : 0;
  r.density = p.mask ? p.mask->density() : 0.0;
  r.extra.push_back({"gflop", pass_flops(p) / 1e9, {}});
  r.extra.push_back({"bytes", pass_bytes(p), {}});
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

std::vector<ResultRow> run_cases(const Scenario& s, const std::vector<Case>& cases,
                                 const RunOptions& opt, const RowCallback& on_row,
                                 const StartCallback& on_start) {
  std::vector<ResultRow> rows;
  CaseData data(s);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    if (on_start) on_start(c, i, cases.size());
    ResultRow row = base_row(c);
    if (auto it = opt.previous.find(case_key(row)); it != opt.previous.end()) {
      row = it->second;  // --resume: finished in an earlier run
    } else if (!opt.filter.empty() && !glob_match(opt.filter, c.label())) {
      row.status = Status::skipped;
      row.message = "filtered out by --filter " + opt.filter;
    } else if (c.problem.strategy != "none") {
      if (strategy_runner()) {
        row = strategy_runner()(c, s, opt, data, row);
      } else {
        row.status = Status::unsupported;
        row.message = "strategy " + c.problem.strategy + " needs the CP module, which is not built";
      }
    } else {
      row = run_single_device(c, s, opt, data, std::move(row));
    }
    if (on_row) on_row(c, row);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace attnbench
