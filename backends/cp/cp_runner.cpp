// The CP case runner: sub-communicator per world size, agreed preparation, distributed timing, metrics.
#include "backends/cp/cp_runner.hpp"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "attnbench/registry.hpp"
#include "harness/comm/world.hpp"
#include "harness/dump.hpp"
#include "harness/stats.hpp"

namespace attnbench::cp {

namespace {

// The median of the samples that are not NaN (NaN when none is), as the row's time columns take it.
double median_of(std::vector<double> v) {
  std::erase_if(v, [](double x) { return std::isnan(x); });
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : percentile(std::move(v), 0.5);
}

std::string json_array(const std::vector<double>& v, double scale) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.6g}", i ? "," : "", v[i] * scale);
  return s + "]";
}

// OpenMP threads per rank for a case of `world_size` ranks: the node's cores shared
// by the ranks of this case on the node (0: leave OpenMP alone, the user set OMP_NUM_THREADS).
int case_threads(int world_size) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return 0;
  int per_node = comm::world().size();
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const char* s = std::getenv(v); s != nullptr && std::atoi(s) > 0) {
      per_node = std::atoi(s);
      break;
    }
  return std::max(1, omp_get_num_procs() / std::max(1, std::min(world_size, per_node)));
}

// Sets the thread count for one case and restores it afterwards.
struct ThreadScope {
  int saved = omp_get_max_threads();
  explicit ThreadScope(int n) {
    if (n > 0) omp_set_num_threads(n);
  }
  ~ThreadScope() { omp_set_num_threads(saved); }
};

ResultRow run_on(Communicator& comm, const Case& c, const Scenario& s, const RunOptions& opt,
                 CaseData& data, ResultRow row) {
  const Problem& p = c.problem;
  Strategy* strategy = Registry::instance().find_strategy(p.strategy);
  Backend* backend = Registry::instance().find_backend(c.backend);
  if (strategy == nullptr || backend == nullptr) {
    row.status = Status::error;
    row.message = strategy == nullptr ? "strategy not registered: " + p.strategy
                                      : "backend not registered: " + c.backend;
    return row;
  }
  // Capability answers are pure functions of the case: every rank gets the same one.
  const Support support = strategy->supports(p, *backend);
  if (!support.ok) {
    row.status = Status::unsupported;
    row.message = support.reason;
    return row;
  }
  const auto budget = static_cast<std::size_t>(opt.memory_budget_bytes);
  MemoryTracker host(budget);
  std::unique_ptr<Execution> exec;
  const Inputs* in = nullptr;
  try {
    // Local steps first; the ranks agree before any communication starts.
    comm::agree(comm, [&] {
      in = &data.inputs(c);
      host.reserve((in->q.size() + in->k.size() + in->v.size() + in->dout.size()) * sizeof(float));
    });
    Resources res{&host, &host, &comm, 0};
    exec = strategy->prepare(p, *backend, *in, res);
  } catch (const OutOfMemory& e) {
    row.status = Status::oom;
    row.message = e.what();
    return row;
  } catch (const std::bad_alloc&) {
    row.status = Status::oom;
    row.message = "allocation failed (std::bad_alloc)";
    return row;
  } catch (const std::exception& e) {
    row.status = Status::error;
    row.message = e.what();
    return row;
  }

  // From here on a failure on one rank leaves the others waiting: it ends the job.
  DistributedTiming t;
  Outputs out;
  const bool check = should_check(s, p);
  try {
    comm::collective(comm, "CP case " + c.label(), [&] {
      t = measure_distributed(s.timing, comm, [&] {
        comm.barrier();
        return exec->timed_run();
      });
      if (check || !opt.dump_dir.empty()) exec->fetch_outputs(out);
    });
  } catch (const std::exception& e) {  // one rank only: nobody is left waiting
    row.status = Status::error;
    row.message = e.what();
    return row;
  }

  fill_timing(row, p, t.max_over_ranks);
  const int P = comm.size();
  row.extra.push_back({"compute_ms", median_of(t.max_over_ranks.compute_seconds) * 1e3, {}});
  row.extra.push_back({"comm_ms", median_of(t.max_over_ranks.comm_seconds) * 1e3, {}});
  row.extra.push_back({"tflops_per_rank", row.tflops / P, {}});
  std::vector<double> rank_median(static_cast<std::size_t>(P));
  for (int r = 0; r < P; ++r) rank_median[r] = median_of(t.per_rank[r]);
  row.extra.push_back({"rank_time_ms", ResultRow::nan, json_array(rank_median, 1e3), true});
  auto metrics = exec->metrics();
  // Bytes differ per rank: report the largest, and every rank's in the JSON.
  std::vector<double> bytes(static_cast<std::size_t>(P), 0.0);
  for (auto& m : metrics)
    if (m.name == "bytes_sent") bytes[comm.rank()] = m.value;
  comm.allreduce(bytes.data(), bytes.size(), ReduceOp::sum);
  for (auto& m : metrics) {
    if (m.name == "bytes_sent") {
      m.value = *std::max_element(bytes.begin(), bytes.end());
      row.extra.push_back(m);
      row.extra.push_back({"rank_bytes_sent", ResultRow::nan, json_array(bytes, 1.0), true});
    } else {
      row.extra.push_back(m);
    }
  }
  double peak = static_cast<double>(host.peak());
  comm.allreduce(&peak, 1, ReduceOp::max);
  row.peak_mem_bytes = static_cast<std::int64_t>(peak);

  if (comm.rank() == 0) {
    apply_check(row, s, backend->info(), p, check ? &out : nullptr, check ? &data.reference(c) : nullptr);
    if (!opt.dump_dir.empty()) write_case_dump(opt.dump_dir, c, *in, out);
  }
  return row;
}

}  // namespace

DistributedTiming measure_distributed(const TimingConfig& cfg, Communicator& comm,
                                      const std::function<IterationTime()>& iteration) {
  for (int i = 0; i < cfg.warmup; ++i) iteration();
  DistributedTiming d;
  const int P = comm.size();
  d.per_rank.resize(static_cast<std::size_t>(P));
  TimingResult& r = d.max_over_ranks;
  const auto start = std::chrono::steady_clock::now();
  double measured = 0;
  // One allreduce (max) carries every rank's own time (one-hot slots [0, P), the
  // others 0: times are >= 0) and the maxima of the rest (slots P..P+3).
  std::vector<double> buf(static_cast<std::size_t>(P) + 4);
  while (true) {
    const IterationTime it = iteration();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fill(buf.begin(), buf.end(), 0.0);
    buf[comm.rank()] = it.seconds;
    // An execution without a compute/comm split reports NaN: -1 survives the max.
    double* mx = buf.data() + P;
    mx[0] = it.seconds;
    mx[1] = std::isnan(it.compute_seconds) ? -1.0 : it.compute_seconds;
    mx[2] = std::isnan(it.comm_seconds) ? -1.0 : it.comm_seconds;
    mx[3] = wall;
    comm.allreduce(buf.data(), buf.size(), ReduceOp::max);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int q = 0; q < P; ++q) d.per_rank[q].push_back(buf[q]);
    r.seconds.push_back(mx[0]);
    r.compute_seconds.push_back(mx[1] < 0 ? nan : mx[1]);
    r.comm_seconds.push_back(mx[2] < 0 ? nan : mx[2]);
    measured += mx[0];
    r.stop_reason = stop_rule(cfg, r.seconds, measured, mx[3]);  // values every rank shares
    if (!r.stop_reason.empty()) break;
  }
  return d;
}

ResultRow run_cp_case(const Case& c, const Scenario& s, const RunOptions& opt, CaseData& data,
                      ResultRow row) {
  Communicator* sub = comm::first_ranks(c.problem.world_size);
  if (sub == nullptr) {  // not part of this world size: wait without using a core
    comm::world().idle_barrier();
    row.status = Status::skipped;
    row.message = "idle rank";
    return row;
  }
  {
    ThreadScope threads(case_threads(c.problem.world_size));
    row = run_on(*sub, c, s, opt, data, std::move(row));
  }
  comm::world().idle_barrier();
  return row;
}

namespace {
const bool installed = [] {
  set_strategy_case_runner(run_cp_case);
  return true;
}();
}  // namespace

}  // namespace attnbench::cp
