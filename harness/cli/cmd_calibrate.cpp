// `attnbench calibrate --out MACHINE.yaml`: alpha-beta of this launch's links (ping-pong, allgather,
// all-to-all over MPI, 1 KiB - 64 MiB as nccl-tests sizes them) and the kernel profile measured on the spot.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>

#include "harness/cli/cmd_model.hpp"
#include "harness/comm/world.hpp"
#include "harness/case_row.hpp"
#include "harness/pipeline.hpp"
#include "harness/sweep.hpp"
#include "harness/scenario.hpp"
#include "model/machine.hpp"
#include "model/profile.hpp"

namespace attnbench {

namespace {

struct CalibrateArgs {
  std::string out, name = "calibrated", backend = "cpu.flash", dtype = "fp32";
  std::int64_t heads = 4, head_dim = 64;
  std::vector<std::int64_t> seqlens{1024, 2048, 4096};
  std::int64_t max_bytes = 64ll << 20;
};

using Clock = std::chrono::steady_clock;

// Median seconds of `reps` runs of `op` (each after a barrier), agreed as the max over ranks.
double time_op(Communicator& c, int reps, const std::function<void()>& op) {
  std::vector<double> t;
  for (int i = 0; i < reps + 1; ++i) {
    c.barrier();
    const auto t0 = Clock::now();
    op();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    c.allreduce(&s, 1, ReduceOp::max);
    if (i > 0) t.push_back(s);  // the first is a warm-up
  }
  std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

// Least squares of the relative error (weights 1/y^2, so that 1 KiB counts as much as 64 MiB) of
// y = c0 + c1 x; returns {alpha_us, gbps} with x = bytes over beta, c0 = rounds x alpha.
model::Link fit(const std::vector<std::pair<double, double>>& pts, double rounds) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (auto [x, y] : pts) {
    const double w = 1 / (y * y);
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
  }
  const double c1 = (sw * sxy - sx * sy) / (sw * sxx - sx * sx), c0 = (sy - c1 * sx) / sw;
  // The smallest message's time bounds alpha when the intercept comes out negative (noise).
  const double alpha = c0 > 0 ? c0 / rounds : pts.front().second / rounds;
  return {alpha * 1e6, c1 > 0 ? 1.0 / c1 / 1e9 : pts.back().first / pts.back().second / 1e9};
}

int do_calibrate(const CalibrateArgs& a) {
  comm::WorldScope mpi;
  Communicator& w = comm::world();
  const int P = w.size(), me = w.rank();
  if (P < 2)
    throw InputError(
        "calibrate: needs at least 2 ranks to measure links (accepted: mpirun -np N attnbench calibrate "
        "..., N >= 2)");
  std::vector<float> send(static_cast<std::size_t>(a.max_bytes / 4)), recv(send.size());
  std::vector<std::pair<double, double>> pp, ag, a2a;
  std::string table;
  for (std::int64_t bytes = 1024; bytes <= a.max_bytes; bytes *= 4) {
    const int reps = bytes <= (1 << 20) ? 20 : 5;
    // Ping-pong between ranks 0 and 1: half a round trip.
    const double t_pp = time_op(w, reps,
                                [&] {
                                  if (me == 0) {
                                    w.isend(send.data(), static_cast<std::size_t>(bytes), 1, 7)->wait();
                                    w.irecv(recv.data(), static_cast<std::size_t>(bytes), 1, 8)->wait();
                                  } else if (me == 1) {
                                    w.irecv(recv.data(), static_cast<std::size_t>(bytes), 0, 7)->wait();
                                    w.isend(send.data(), static_cast<std::size_t>(bytes), 0, 8)->wait();
                                  }
                                }) /
                        2;
    // All-gather of `bytes` in total (nccl-tests' size), and all-to-all of `bytes` per rank.
    const std::int64_t per = bytes / 4 / P;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(P), per);
    const double t_ag = time_op(w, reps, [&] { w.allgatherv(send.data(), per, recv.data(), counts); });
    const double t_a2a = time_op(w, reps, [&] { w.alltoallv(send.data(), counts, recv.data(), counts); });
    const double moved = static_cast<double>(per * 4 * P) * (P - 1) / P;
    pp.push_back({static_cast<double>(bytes), t_pp});
    ag.push_back({moved, t_ag});
    a2a.push_back({static_cast<double>(per) * 4 * (P - 1), t_a2a});
    table += fmt::format("  {:>9} B: ping-pong {:.1f} us, allgather {:.1f} us, all-to-all {:.1f} us\n", bytes,
                         t_pp * 1e6, t_ag * 1e6, t_a2a * 1e6);
  }
  const model::Link l_pp = fit(pp, 1), l_ag = fit(ag, P - 1), l_a2a = fit(a2a, P - 1);

  // Kernel profile: every rank runs the same single-device sweep at once, so the kernels share the
  // node as the ranks of a CP run do (one rank alone would get the cores, caches and memory bandwidth
  // to itself and predict a CP step too fast); rank 0's rows are fitted.
  std::vector<model::ProfileEntry> profile;
  double best_tflops = 0;
  {
    std::string seqlens;
    for (auto s : a.seqlens) seqlens += (seqlens.empty() ? "" : ", ") + std::to_string(s);
    const std::string yaml = fmt::format(
        "name: calibrate\nbackends: [{}]\nmasks: [full, causal]\nseqlens: [{}]\n"
        "shape: {{batch: 1, heads_q: {}, heads_kv: {}, head_dim: {}}}\ndtypes: [{}]\npasses: [fwd, bwd]\n"
        "timing: {{warmup: 1, min_iters: 3, max_iters: 10, min_time_s: 0.2, max_noise_pct: 5, timeout_s: "
        "60}}\n"
        "check: {{enabled: false}}\n",
        a.backend, seqlens, a.heads, a.heads, a.head_dim, a.dtype);
    const Scenario s = parse_scenario(yaml, "calibrate");
    RunOptions opt;
    opt.memory_budget_bytes = default_memory_budget_bytes();
    w.barrier();
    const auto rows = run_cases(s, expand(s), opt);
    profile = model::fit_profile(rows);
    for (const auto& r : rows)
      if (r.status == Status::ok && r.pass == "fwd") best_tflops = std::max(best_tflops, r.tflops);
  }
  w.idle_barrier();
  if (me != 0) return 0;
  model::Machine m;
  m.name = a.name;
  m.gpus_per_node = P;
  m.intra = l_pp;
  m.inter = l_pp;
  m.peak_tflops = best_tflops > 0 ? best_tflops : 1;
  m.attention_efficiency = 1;
  m.profile = profile;
  std::vector<std::string> comment{
      "Measured by `attnbench calibrate` over " + std::to_string(P) +
          " ranks of one launch (one node: inter = intra).",
      fmt::format("ping-pong fit: alpha {:.2f} us, {:.3g} GB/s (used for intra and inter)", l_pp.alpha_us,
                  l_pp.gbps),
      fmt::format("allgather fit: alpha {:.2f} us, {:.3g} GB/s", l_ag.alpha_us, l_ag.gbps),
      fmt::format("all-to-all fit: alpha {:.2f} us, {:.3g} GB/s", l_a2a.alpha_us, l_a2a.gbps),
      fmt::format("peak_tflops: the best measured {} fwd rate (attention_efficiency 1)", a.backend),
      "profile: time = a_ms + b_ms_per_gwork * (area x batch x heads_q) / 1e9, fitted on full and causal "
      "masks,",
      "measured on rank 0 while every rank ran the same kernels (as in a CP run on this node)"};
  std::ofstream(a.out) << model::machine_yaml(m, comment);
  fmt::print("{}", table);
  for (const auto& c : comment) fmt::print("{}\n", c);
  fmt::print("attnbench: calibrate: wrote {}\n", a.out);
  return 0;
}

}  // namespace

void add_calibrate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CalibrateArgs>();
  CLI::App* c = app.add_subcommand(
      "calibrate", "Measure link alpha/beta (MPI) and the kernel profile into a machine file");
  c->add_option("--out", args->out, "Machine file to write")->required();
  c->add_option("--name", args->name, "Machine name in the file");
  c->add_option("--backend", args->backend, "Backend whose kernel profile is measured");
  c->add_option("--dtype", args->dtype, "dtype of the profile");
  c->add_option("--heads", args->heads, "Heads of the profile cases");
  c->add_option("--head-dim", args->head_dim, "Head dimension of the profile cases");
  c->add_option("--seqlens", args->seqlens, "Sequence lengths of the profile cases");
  c->add_option("--max-bytes", args->max_bytes, "Largest message (default 64 MiB)");
  c->callback([args, &exit_code] { exit_code = do_calibrate(*args); });
}

}  // namespace attnbench
