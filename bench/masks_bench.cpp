// Mask library benchmarks: exact area at S = 1M (construction included) and block maps at S = 128K.
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include "masks/library.hpp"

namespace {

using attnbench::MaskSpec;

// Default parameters; `slices` needs a pattern, so it gets a causal square beside a causal band.
MaskSpec default_spec(const std::string& name, std::int64_t s) {
  MaskSpec spec{name, {}};
  if (name == "slices")
    spec.params["slices"] = fmt::format(
        "[{{q: [0, {0}], k: [0, {0}], type: causal}}, {{q: [{0}, {1}], k: [0, {1}], type: causal}}]", s / 2,
        s);
  return spec;
}

void area_1m(benchmark::State& state, const std::string& name) {
  const std::int64_t s = 1 << 20;
  const auto spec = default_spec(name, s);
  std::int64_t area = 0;
  for (auto _ : state) {
    area = attnbench::mask_area(spec, s, s);
    benchmark::DoNotOptimize(area);
  }
  state.counters["density"] = static_cast<double>(area) / (static_cast<double>(s) * static_cast<double>(s));
}

void block_map_128k(benchmark::State& state, const std::string& name) {
  const std::int64_t s = 128 * 1024;
  const auto mask = attnbench::build_mask(default_spec(name, s), s, s);
  std::int64_t tiles = 0;
  for (auto _ : state) {
    const auto bm = mask->block_map(128, 128);
    tiles = static_cast<std::int64_t>(bm.cols.size());
    benchmark::DoNotOptimize(tiles);
  }
  state.counters["nonempty_tiles"] = static_cast<double>(tiles);
}

void build_128k(benchmark::State& state, const std::string& name) {
  const std::int64_t s = 128 * 1024;
  const auto spec = default_spec(name, s);
  for (auto _ : state) benchmark::DoNotOptimize(attnbench::build_mask(spec, s, s));
}

const bool registered = [] {
  for (const auto& name : attnbench::mask_names()) {
    benchmark::RegisterBenchmark(("area_1M/" + name).c_str(), area_1m, name)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("build_128K/" + name).c_str(), build_128k, name)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("block_map_128K_128x128/" + name).c_str(), block_map_128k, name)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
