// Cost-model benchmark: 1024 GPUs x 6 CP strategies x 30 document masks (issue 18's budget: under 10 s);
// numbers go to docs/scale.md. Mask construction is included, as `attnbench model` pays it too.
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <omp.h>

#include "attnbench/types.hpp"
#include "masks/library.hpp"
#include "model/cost.hpp"
#include "model/machine.hpp"

namespace {

using namespace attnbench;

void model_1024_gpus_30_document_masks(benchmark::State& state) {
  // An H100 cluster's links; the numbers do not change the work, only the modelled times.
  const auto machine = model::parse_machine(
      "name: h100\ngpus_per_node: 8\nintra: {alpha_us: 10, gbps: 370}\ninter: {alpha_us: 20, gbps: 45}\n"
      "peak_tflops: 989\n",
      "bench.yaml");
  omp_set_num_threads(static_cast<int>(state.range(0)));
  const std::int64_t S = 8192LL * 1024;  // LongCA-bench's 8K tokens per GPU
  int modelled = 0;
  for (auto _ : state) {
    modelled = 0;
    for (int seed = 0; seed < 30; ++seed) {
      Problem p;
      p.shape = {1, 64, 8, S, S, 128};
      p.dtype = DType::bf16;
      p.pass = Pass::fwd;
      p.mask =
          build_mask({"causal_document", {{"distribution", "pile"}, {"seed", std::to_string(seed)}}}, S, S);
      p.world_size = 1024;
      for (const char* strategy : {"ring", "ring_zigzag", "allgather_kv", "ulysses", "usp", "double_ring"}) {
        p.strategy = strategy;
        modelled += model::model_case(p, "cpu.flash", machine).supported;
      }
    }
  }
  state.counters["cases_modelled"] = modelled;  // 150: ulysses cannot split 64 heads over 1024 ranks
}

}  // namespace

BENCHMARK(model_1024_gpus_30_document_masks)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

BENCHMARK_MAIN();
