// Under mpirun -np 2/4/8: for every strategy, mask and balance of scenarios/cp-cpu.yaml (fwd and bwd), the
// model's bytes per rank, area per rank and area per rank and step equal what the real execution counts.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "attnbench/registry.hpp"
#include "backends/cp/cp_execution.hpp"
#include "harness/comm/world.hpp"
#include "tests/backends/cp/mpi_catch_main.hpp"
#include "harness/inputs.hpp"
#include "harness/scenario.hpp"
#include "model/cost.hpp"

using namespace attnbench;

TEST_CASE("the model's schedule equals the real executions' counts for cp-cpu.yaml", "[model][mpi]") {
  Communicator& w = comm::world();
  const int P = w.size(), me = w.rank();
  // The scenario's strategies, masks, options and shape; a short sequence so that 8 ranks on 2 cores stay
  // quick.
  const Scenario s =
      load_scenario(ATTNBENCH_SOURCE_DIR "/scenarios/cp-cpu.yaml",
                    {"seqlens=[512]", fmt::format("world_sizes=[{}]", P), "passes=[fwd, bwd]"});
  model::Machine machine;  // links and peak only scale times; counts do not depend on them
  machine.intra = machine.inter = {1, 1};
  machine.peak_tflops = 1;
  std::size_t compared = 0, unsupported = 0;
  for (const Case& c : expand(s)) {
    const Problem& p = c.problem;
    if (p.strategy == "none") continue;
    Strategy* strategy = Registry::instance().find_strategy(p.strategy);
    const Backend* backend = Registry::instance().find_backend(c.backend);
    model::ModelOptions mo;
    mo.keep_steps = true;
    mo.elem_bytes = sizeof(float);  // CPU executions move fp32 buffers
    const model::CaseModel m = model::model_case(p, c.backend, machine, mo);
    const Support sup = strategy->supports(p, *backend);
    INFO(fmt::format("rank {} of {}: {}", me, P, c.label()));
    REQUIRE(sup.ok == m.supported);
    if (!sup.ok) {
      CHECK(sup.reason == m.reason);  // e.g. Ulysses' head-count limit, word for word
      ++unsupported;
      continue;
    }
    const Inputs in = generate_inputs(p);
    MemoryTracker mem;
    Resources r{&mem, &mem, &w, 0};
    auto exec = strategy->prepare(p, *backend, in, r);
    auto* cp_exec = dynamic_cast<cp::CpExecution*>(exec.get());
    REQUIRE(cp_exec != nullptr);
    exec->timed_run();
    double bytes = -1;
    std::string rank_area;
    for (const auto& metric : exec->metrics()) {
      if (metric.name == "bytes_sent") bytes = metric.value;
      if (metric.name == "rank_area") rank_area = metric.text;
    }
    CHECK(static_cast<std::uint64_t>(bytes) == m.rank_bytes[me]);
    CHECK(cp_exec->step_areas() == m.rank_step_areas[me]);
    std::string model_area = "[";
    for (int q = 0; q < P; ++q) model_area += fmt::format("{}{:.0f}", q ? "," : "", m.rank_area[q]);
    CHECK(rank_area == model_area + "]");
    ++compared;
  }
  // 6 strategies x 2 masks x 2 balances x 2 passes; Ulysses needs heads (4) divisible by P.
  CHECK(compared + unsupported == 48);
  CHECK(compared >= 40);
}

int main(int argc, char** argv) { return attnbench::test::run_catch_on_every_rank(argc, argv); }
