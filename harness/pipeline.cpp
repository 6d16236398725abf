// The case pipeline shared by single-device and CP cases; only the measurement and the ranks differ.
#include "harness/pipeline.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>

#include "attnbench/registry.hpp"
#include "harness/capability.hpp"
#include "harness/case_row.hpp"
#include "harness/comm/world.hpp"
#include "harness/stats.hpp"
#include "harness/traffic.hpp"
#include "harness/dump.hpp"
#include "harness/mqar.hpp"
#include "harness/select/select.hpp"
#include "reports/durable_file.hpp"

namespace attnbench {

namespace {

std::size_t input_bytes(const Inputs& in) {
  return (in.q.size() + in.k.size() + in.v.size() + in.dout.size()) * sizeof(float);
}

// The row of a failed case: whatever was thrown, of any type, is an `oom` or `error` row.
void fail_row(ResultRow& row, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const OutOfMemory& x) {
    row.status = Status::oom;
    row.message = x.what();
  } catch (const std::bad_alloc&) {
    row.status = Status::oom;
    row.message = "allocation failed (std::bad_alloc)";
  } catch (const std::exception& x) {
    row.status = Status::error;
    row.message = x.what();
  } catch (...) {  // `throw 42`, a plugin's own struct: never std::terminate
    row.status = Status::error;
    row.message = "a non-standard exception (not derived from std::exception) was thrown";
  }
}

// Local steps on many ranks agree before anyone communicates; alone they just run.
void agreed(Communicator* comm, const std::function<void()>& step) {
  if (comm != nullptr)
    comm::agree(*comm, step);
  else
    step();
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

// Runs the case's selector on its inputs, timed like a pass (median of timing.min_iters runs, no
// warm-up), once per selection (CaseData: the backends and passes of the case share it), and returns
// the case under the selected masks; the row gets select_ms, the selected area, density, FLOPs and
// bytes, and the label of the base mask the reports pair it with.
Case select_case(const Case& c, CaseData& data, const Inputs& in, const TimingConfig& timing,
                 ResultRow& row) {
  const CaseData::Selection& selection = data.selection(c, [&] {
    CaseData::Selection s;
    TimingConfig tc = timing;
    tc.warmup = 0;
    tc.metric = TimingMetric::time;
    tc.max_iters = std::max(1, std::min(tc.min_iters, tc.max_iters));
    const TimingResult t = measure(tc, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      s.head_masks = select_masks(c.problem, in);
      return IterationTime{std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    });
    s.select_ms = summarize(t.seconds).median * 1e3;
    return s;
  });
  Case sel = c;
  sel.problem.head_masks = selection.head_masks;
  const Problem& p = sel.problem;
  row.area = p.area();
  row.density = p.density();
  for (auto& [name, value] :
       std::vector<std::pair<std::string, double>>{{"gflop", pass_flops(p) / 1e9}, {"bytes", pass_bytes(p)}})
    if (Metric* x = row.find_extra(name)) x->value = value;
  row.extra.push_back({"select_ms", selection.select_ms, {}});
  row.extra.push_back({"base_mask", ResultRow::nan, base_mask_label(c.problem)});
  return sel;
}

}  // namespace

ResultRow run_case_on(const Case& c, SweepContext& ctx, ResultRow row, Communicator* comm, Measurement& m) {
  const Problem& p = c.problem;
  const Scenario& s = ctx.scenario;
  const RunOptions& opt = ctx.options;
  // An MQAR probe that does not fit the case (S < 2 * pairs): nothing to run.
  if (const std::string why = mqar_unfit(p, c.inputs); !why.empty()) {
    row.status = Status::skipped;
    row.message = why;
    return row;
  }
  // Capability: a pure function of the case, so every rank gets the same answer.
  Support support;
  try {
    support = capability(c);
  } catch (...) {
    fail_row(row, std::current_exception());
    return row;
  }
  if (!support.ok) {
    // Invalid answers are refused at expansion; one reaching here is reported, not run.
    row.status = support.is_invalid() ? Status::error : Status::unsupported;
    row.message = support.reason;
    return row;
  }
  Backend& backend = *Registry::instance().find_backend(c.backend);
  Strategy* strategy = p.strategy == "none" ? nullptr : Registry::instance().find_strategy(p.strategy);
  const auto budget = static_cast<std::size_t>(opt.memory_budget_bytes);
  MemoryTracker host(budget), device(budget);
  const bool lead = comm == nullptr || comm->rank() == 0;
  const bool check = should_check(s, p);
  try {
    const BackendInfo info = backend.info();
    const bool on_device = strategy == nullptr && info.device != Device::cpu;  // CP charges the host
    // Inputs: every rank builds the same global inputs; the ranks agree before preparing.
    const Inputs* in = nullptr;
    agreed(comm, [&] {
      in = &ctx.data.inputs(c);
      host.reserve(input_bytes(*in));  // the inputs are live during the case: charge them
    });
    // A dynamic mask: select from the inputs (timed: select_ms), then run the case under the selection.
    const Case* run = &c;
    Case selected;
    if (is_dynamic(p)) {
      selected = select_case(c, ctx.data, *in, s.timing, row);
      run = &selected;
    }
    const Problem& rp = run->problem;
    // Prepare: the backend itself, or the strategy wrapping it (which shards and agrees).
    Resources res{&host, on_device ? &device : &host, comm, 0};
    std::unique_ptr<Execution> exec =
        strategy != nullptr ? strategy->prepare(rp, backend, *in, res) : backend.prepare(rp, *in, res);

    // Measure (and fetch what the check and the dump need). On many ranks a failure
    // here leaves the others mid-communication: it ends the job (comm::collective).
    TimingResult t;
    Outputs out;
    const auto measure_step = [&] {
      // Instructions are a CPU metric: device kernels stay timed.
      TimingConfig tc = s.timing;
      if (info.device != Device::cpu) tc.metric = TimingMetric::time;
      t = m.time(tc, *exec);
      if (check || !opt.dump_dir.empty() || c.inputs.mqar()) exec->fetch_outputs(out);
    };
    if (comm != nullptr)
      comm::collective(*comm, "CP case " + c.label(), measure_step);
    else
      measure_step();
    m.fill(row, rp, t, exec->metrics(), static_cast<double>(on_device ? device.peak() : host.peak()));

    // Check and dump: on rank 0 only, against the one reference.
    if (lead) {
      BackendInfo judged = info;  // an approximate backend exact on this case is held to that
      if (support.tolerance_fwd > 0) judged.tolerance_fwd = support.tolerance_fwd;
      apply_check(row, s, judged, rp, check ? &out : nullptr, check ? &ctx.data.reference(*run) : nullptr);
      if (const MqarProbes* probes = ctx.data.probes(c); probes != nullptr && !out.o.empty())
        row.extra.push_back({"recall", mqar_recall(p, *probes, out.o), {}});
      if (check && run != &c) {  // quality of the selection against exact attention under the base
        const SelectionQuality& q = ctx.data.selection_quality(*run);
        row.extra.push_back({"attn_recall", q.attn_recall, {}});
        row.extra.push_back({"approx_rel_l2", q.approx_rel_l2, {}});
      }
      if (!opt.dump_dir.empty()) {
        if (out.o.empty()) {  // a bwd pass: dump the forward o/lse its backward consumed
          const Outputs& ref = ctx.data.reference(*run);
          out.o = ref.o;
          out.lse = ref.lse;
        }
        write_case_dump(opt.dump_dir, *run, *in, out);
      }
    }
  } catch (const OutputError&) {
    throw;  // a dump that cannot be written is the environment's failure, not the case's: the sweep stops
  } catch (...) {
    fail_row(row, std::current_exception());
    if (row.status == Status::oom && comm == nullptr)
      row.peak_mem_bytes = static_cast<std::int64_t>(std::max(host.peak(), device.peak()));
  }
  return row;
}

ResultRow run_case(const Case& c, SweepContext& ctx, ResultRow row) {
  if (c.problem.strategy == "none") {
    LocalMeasurement local;
    return run_case_on(c, ctx, std::move(row), nullptr, local);
  }
  if (Registry::instance().find_strategy(c.problem.strategy) == nullptr) {
    row.status = Status::unsupported;
    row.message = "strategy " + c.problem.strategy + " needs the CP module, which is not built";
    return row;
  }
  Communicator* sub = comm::first_ranks(c.problem.world_size);  // collective over the world
  if (sub == nullptr) {  // not part of this world size: wait without using a core
    comm::world().idle_barrier();
    row.status = Status::skipped;
    row.message = "idle rank";
    return row;
  }
  std::exception_ptr dump_failed;  // rank 0's OutputError: rethrown after the ranks meet
  try {
    ThreadScope threads(case_threads(c.problem.world_size));
    DistributedMeasurement distributed(*sub);
    row = run_case_on(c, ctx, std::move(row), sub, distributed);
  } catch (const OutputError&) {
    dump_failed = std::current_exception();
  }
  comm::world().idle_barrier();
  if (dump_failed) std::rethrow_exception(dump_failed);
  return row;
}

}  // namespace attnbench
