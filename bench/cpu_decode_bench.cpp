// cpu.flash's decode forward alone (Sq 1, B 8, Hq 32, Hkv 8, D 128, fp32, causal) in GB/s by the `bytes`
// convention, per wall second and per CPU second, to set against bench/triad_bench.cpp (docs/decode.md).
// ATTNBENCH_CPU_DECODE=0 runs the tiled forward instead, for comparison.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <new>
#include <vector>

#include "backends/cpu/flash/flash_driver.hpp"
#include "harness/traffic.hpp"
#include "masks/library.hpp"

namespace {

using namespace attnbench;
namespace flash = attnbench::cpu::flash;

// Process CPU seconds: on a loaded machine, GB/s per CPU-second of each thread says what the
// threads deliver while they run (a memory stall counts as running; being descheduled does not).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

constexpr std::int64_t kB = 8, kHq = 32, kHkv = 8, kD = 128;

struct Floats {
  explicit Floats(std::size_t n)
      : p(static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t{64}))) {}
  ~Floats() { ::operator delete[](p, std::align_val_t{64}); }
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;
  float* p;
};

void BM_cpu_decode(benchmark::State& state) {
  const std::int64_t sk = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const std::int64_t kv = kB * sk * kHkv * kD, qo = kB * kHq * kD;
  Floats q(qo), k(kv), v(kv), o(qo), lse(kB * kHq);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < kv; ++i) {
    k.p[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
    v.p[i] = static_cast<float>((i * 104729) % 1000) * 1e-3f - 0.5f;
  }
  for (std::int64_t i = 0; i < qo; ++i) q.p[i] = static_cast<float>((i * 31) % 97) * 0.01f - 0.5f;
  Problem problem;  // the case as the harness states it: geometry and bytes come from it
  problem.shape = {kB, kHq, kHkv, 1, sk, kD};
  problem.mask = build_mask(MaskSpec{"causal", {}}, 1, sk);
  problem.softmax_scale = 1.0 / std::sqrt(double(kD));
  const Mask& mask = *problem.mask;
  const flash::Geometry g = flash::geometry_of(problem);
  const flash::KernelSet& kernels = flash::select_kernels();
  const flash::TilePlan plan = flash::make_tile_plan(mask, kernels, 0, 1, 0, sk);
  Floats ws(std::max<std::size_t>(1, flash::forward_workspace(kernels, g, threads)));
  auto step = [&] {
    flash::run_forward(kernels, plan, mask, g, 0, 0, q.p, k.p, v.p, o.p, lse.p, ws.p, threads);
  };
  step();  // warm-up
  // Query head 0 of batch 0 against a float64 softmax, so the figure is of a correct kernel.
  {
    std::vector<double> p(static_cast<std::size_t>(sk));
    double mx = -INFINITY, sum = 0;
    for (std::int64_t j = 0; j < sk; ++j) {
      double dot = 0;
      for (std::int64_t d = 0; d < kD; ++d) dot += double(q.p[d]) * double(k.p[j * kHkv * kD + d]);
      p[j] = dot * g.softmax_scale;
      mx = std::max(mx, p[j]);
    }
    for (auto& x : p) sum += x = std::exp(x - mx);
    for (std::int64_t d = 0; d < kD; ++d) {
      double want = 0;
      for (std::int64_t j = 0; j < sk; ++j) want += p[j] * double(v.p[j * kHkv * kD + d]);
      want /= sum;
      if (std::abs(want - double(o.p[d])) > 1e-3 * (1 + std::abs(want))) state.SkipWithError("wrong output");
    }
  }
  // The `bytes` column's convention (harness/traffic.cpp): Q, K, V, O and LSE once.
  const double bytes = pass_bytes(problem);
  double best = 1e300;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(o.p);
    state.SetIterationTime(s);
    best = std::min(best, s);
  }
  state.counters["GB/s"] = bytes / best / 1e9;  // best step, as the triad reports its best
  state.counters["GB/s_per_cpu_s"] =
      bytes * static_cast<double>(state.iterations()) / ((cpu_seconds() - cpu0) / threads) / 1e9;
  state.counters["GB/s_mean"] =
      benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);  // over the mean step
  state.SetLabel(std::string(kernels.isa) + (flash::use_decode_path(g) ? " decode" : " tiled"));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Caches of 512 keys (32 MiB of K and V: mostly cache-resident, the compute ceiling), 16K and 64K
  // keys (1 and 4 GiB), one thread and all cores.
  std::vector<int> thread_counts{1};
  if (omp_get_num_procs() > 1) thread_counts.push_back(omp_get_num_procs());
  for (std::int64_t sk : {512, 16384, 65536})
    for (int threads : thread_counts)
      benchmark::RegisterBenchmark("cpu_decode", BM_cpu_decode)
          ->Args({sk, threads})
          ->UseManualTime()
          ->Iterations(10)
          ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
