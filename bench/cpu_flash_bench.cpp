// cpu.flash micro-benchmarks (QK^T tile, online-softmax step, PV tile) and whole passes at the issue's
// shapes.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "backends/cpu/flash/flash_driver.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"

namespace {

using namespace attnbench;
namespace flash = attnbench::cpu::flash;

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

// --- The inner pieces on one tile, single thread, data in L1/L2. -----------

void BM_tile_scores(benchmark::State& state) {
  const flash::KernelSet& k = flash::select_kernels();
  const std::int64_t d = state.range(0);
  const auto q = random_floats(k.tile_q * d, 1), kk = random_floats(k.tile_k * d, 2);
  std::vector<float> s(k.tile_q * k.tile_k);
  for (auto _ : state) {
    k.tile_scores(q.data(), kk.data(), d, s.data());
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * k.tile_q * k.tile_k * d * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(k.isa);
}
BENCHMARK(BM_tile_scores)->Arg(64)->Arg(128);

void BM_tile_softmax(benchmark::State& state) {
  const flash::KernelSet& k = flash::select_kernels();
  const std::int64_t n = k.tile_q * k.tile_k;
  const auto init = random_floats(n, 3);
  std::vector<float> s(init), m(k.tile_q), l(k.tile_q), alpha(k.tile_q);
  for (auto _ : state) {
    state.PauseTiming();
    s = init;
    std::fill(m.begin(), m.end(), -INFINITY);
    std::fill(l.begin(), l.end(), 0.0f);
    state.ResumeTiming();
    k.tile_softmax(s.data(), 0.125f, m.data(), l.data(), alpha.data());
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["Gelem/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(k.isa);
}
BENCHMARK(BM_tile_softmax);

void BM_tile_pv(benchmark::State& state) {
  const flash::KernelSet& k = flash::select_kernels();
  const std::int64_t d = state.range(0);
  const auto p = random_floats(k.tile_q * k.tile_k, 4), v = random_floats(k.tile_k * d, 5);
  std::vector<float> alpha(k.tile_q, 1.0f), o(k.tile_q * d, 0.0f);
  for (auto _ : state) {
    k.tile_pv(p.data(), v.data(), d, alpha.data(), o.data());
    benchmark::DoNotOptimize(o.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * k.tile_q * k.tile_k * d * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(k.isa);
}
BENCHMARK(BM_tile_pv)->Arg(64)->Arg(128);

// --- Whole passes through the registry, B = 1, Hq = Hkv = 8, D = 128. -------

struct MaskCase {
  const char* label;
  MaskSpec spec;
};

const std::vector<MaskCase>& mask_cases() {
  static const std::vector<MaskCase> cases = {
      {"full", {"full", {}}},
      {"causal", {"causal", {}}},
      {"causal_sliding_window_1024", {"causal_sliding_window", {{"window", "1024"}}}},
      {"causal_document_pile", {"causal_document", {{"distribution", "pile"}, {"seed", "7"}}}},
  };
  return cases;
}

// args: backend index (0 cpu.flash, 1 cpu.math), mask index, seqlen, pass (0 fwd, 1 bwd)
void BM_pass(benchmark::State& state) {
  const char* backends[] = {"cpu.flash", "cpu.math"};
  const std::string backend_name = backends[state.range(0)];
  const MaskCase& mc = mask_cases()[static_cast<std::size_t>(state.range(1))];
  const std::int64_t s = state.range(2);
  Problem p;
  p.shape.batch = 1;
  p.shape.heads_q = p.shape.heads_kv = 8;
  p.shape.seqlen_q = p.shape.seqlen_k = s;
  p.shape.head_dim = 128;
  p.pass = state.range(3) == 0 ? Pass::fwd : Pass::bwd;
  p.mask = build_mask(mc.spec, s, s);
  p.softmax_scale = 1.0 / std::sqrt(128.0);
  p.seed = 1;
  const Inputs in = generate_inputs(p);
  MemoryTracker mem;
  Resources r;
  r.host = r.device = &mem;
  auto exec = Registry::instance().find_backend(backend_name)->prepare(p, in, r);
  for (auto _ : state) exec->run();
  state.counters["GFLOP/s"] =
      benchmark::Counter(pass_flops(p) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["density"] = p.mask->density();
  state.SetLabel(backend_name + " " + mc.label + " " + std::string(to_string(p.pass)));
}
// cpu.flash fwd and bwd, full, S = 8192 (the % of sgemm targets).
BENCHMARK(BM_pass)
    ->Args({0, 0, 8192, 0})
    ->Args({0, 0, 8192, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// Tile skipping: S = 16384, fwd, full / causal / causal_sliding_window 1024 / causal_document pile.
BENCHMARK(BM_pass)
    ->Args({0, 0, 16384, 0})
    ->Args({0, 1, 16384, 0})
    ->Args({0, 2, 16384, 0})
    ->Args({0, 3, 16384, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// cpu.flash vs cpu.math, causal, S = 4096.
BENCHMARK(BM_pass)
    ->Args({0, 1, 4096, 0})
    ->Args({1, 1, 4096, 0})
    ->Args({0, 1, 4096, 1})
    ->Args({1, 1, 4096, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
