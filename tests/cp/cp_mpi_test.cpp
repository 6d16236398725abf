// MPI tests of the CP strategies (run under mpirun -np 2 and -np 4): correctness against the
// float64 reference for every strategy, mask and balance; world-size sweeps; failure handling.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "backends/cp/cp_execution.hpp"
#include "harness/comm/world.hpp"
#include "harness/sweep.hpp"
#include "tests/cp/cp_test_util.hpp"

using namespace attnbench;

namespace {

// Test-only strategies that fail on the last rank: in prepare (the ranks can
// agree: an `error` or `oom` row) or inside a timed iteration (they cannot: the job ends).
class FailPrepare final : public Strategy {
 public:
  explicit FailPrepare(bool oom) : oom_(oom) {}
  StrategyInfo info() const override { return {oom_ ? "test_oom_prepare" : "test_fail_prepare", "test", {}}; }
  Support supports(const Problem&, const Backend&) const override { return Support::yes(); }
  std::unique_ptr<Execution> prepare(const Problem&, const Backend&, const Inputs&, Resources& r) override {
    comm::agree(*r.comm, [&] {
      if (r.comm->rank() == r.comm->size() - 1) {
        if (oom_) throw OutOfMemory("injected allocation failure");
        throw std::runtime_error("injected prepare failure");
      }
    });
    throw std::logic_error("not reached: agree throws on every rank");
  }

 private:
  bool oom_;
};

class FailRun final : public Strategy {
 public:
  StrategyInfo info() const override { return {"test_fail_run", "test", {}}; }
  Support supports(const Problem&, const Backend&) const override { return Support::yes(); }
  std::unique_ptr<Execution> prepare(const Problem&, const Backend&, const Inputs&, Resources& r) override {
    struct Exec final : Execution {
      Communicator* comm;
      void run() override {
        if (comm->rank() == comm->size() - 1) throw std::runtime_error("injected run failure");
        comm->barrier();  // the others wait here for a rank that will never come
      }
      void fetch_outputs(Outputs&) override {}
    };
    auto e = std::make_unique<Exec>();
    e->comm = r.comm;
    return e;
  }
};

const bool registered = [] {
  Registry::instance().add_strategy(std::make_shared<FailPrepare>(false));
  Registry::instance().add_strategy(std::make_shared<FailPrepare>(true));
  Registry::instance().add_strategy(std::make_shared<FailRun>());
  return true;
}();

std::vector<ResultRow> run_scenario(const std::string& yaml, const std::string& dump_dir = "") {
  const Scenario s = parse_scenario(yaml, "test.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  opt.dump_dir = dump_dir;
  return run_cases(s, expand(s), opt);
}

// A one-iteration causal `fwd` scenario on all P ranks (the failure tests).
std::string small_fwd_scenario(const std::string& name, const std::string& strategies, int P) {
  return fmt::format(R"(
name: {}
backends: [cpu.reference]
strategies: [{}]
world_sizes: [{}]
masks: [causal]
seqlens: [64]
shape: {{batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}}
passes: [fwd]
timing: {{warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}}
)",
                     name, strategies, P);
}

}  // namespace

TEST_CASE("every strategy on cpu.reference and cpu.flash matches the reference for every mask and balance",
          "[cp][mpi]") {
  Communicator& w = comm::world();
  const int P = w.size();
  for (const auto& mask : cptest::test_masks()) {
    const auto base = cptest::make_problem(mask, 128, 4, 2, 16, Pass::fwd_bwd, "ring", P);
    const Inputs in = generate_inputs(base);
    const Outputs ref = cptest::reference_outputs(base, in);
    for (const char* backend : {"cpu.reference", "cpu.flash"})
      for (const auto& name : cptest::strategy_names())
        for (const char* balance : {"tokens", "area"})
          for (Pass pass : {Pass::fwd_bwd, Pass::bwd}) {
            if (pass == Pass::bwd && mask.name != "causal") continue;  // the forward-in-prepare path
            auto p = cptest::make_problem(mask, 128, 4, 2, 16, pass, name, P, {{"balance", balance}});
            const Outputs got = cptest::run_strategy(p, backend, in, w);
            const CheckResult r = compare_outputs(got, ref, pass, 1e-5, 1e-4);
            INFO(fmt::format("rank {}: {} on {} balance={} pass={} on {} with P={}: rel L2 {} in {}",
                             w.rank(), name, backend, balance, to_string(pass), mask.name, P, r.rel_l2_err,
                             r.worst));
            CHECK(r.passed);
          }
  }
}

TEST_CASE("options: windows, Ulysses degrees, uneven lengths", "[cp][mpi]") {
  Communicator& w = comm::world();
  const int P = w.size();
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> runs{
      {"double_ring", {{"window", "1"}}},                // outer ring only
      {"double_ring", {{"window", std::to_string(P)}}},  // inner ring only
      {"usp", {{"ulysses_degree", "1"}}},
      {"usp", {{"ulysses_degree", std::to_string(P)}, {"balance", "area"}}},
      {"ring", {{"balance", "area"}, {"chunks_per_rank", "3"}}},
  };
  const auto base = cptest::make_problem({"causal", {}}, 122, 4, 2, 8, Pass::fwd_bwd, "ring", P);
  const Inputs in = generate_inputs(base);
  const Outputs ref = cptest::reference_outputs(base, in);
  for (const auto& [name, options] : runs) {
    auto p = cptest::make_problem({"causal", {}}, 122, 4, 2, 8, Pass::fwd_bwd, name, P, options);
    const CheckResult r =
        compare_outputs(cptest::run_strategy(p, "cpu.reference", in, w), ref, p.pass, 1e-5, 1e-4);
    INFO(name << " " << p.options.size() << " options: rel L2 " << r.rel_l2_err);
    CHECK(r.passed);
  }
}

TEST_CASE("ulysses with heads not divisible by the world size is unsupported", "[cp][mpi]") {
  const int P = comm::world().size();
  auto p = cptest::make_problem({"causal", {}}, 64, 3, 1, 8, Pass::fwd, "ulysses", P);
  const Support s = Registry::instance().find_strategy("ulysses")->supports(
      p, *Registry::instance().find_backend("cpu.reference"));
  CHECK_FALSE(s.ok);
  CHECK_THAT(s.reason, Catch::Contains("heads_q (3)"));
}

TEST_CASE("a world-size sweep runs in one launch, checked and dumped on rank 0", "[cp][mpi]") {
  const int P = comm::world().size();
  const auto dump = std::filesystem::temp_directory_path() / fmt::format("attnbench-cp-dump-{}", ::getpid());
  if (comm::is_lead()) std::filesystem::create_directories(dump);
  const auto rows = run_scenario(fmt::format(R"(
name: sweep
backends: [cpu.reference]
strategies: [ring_zigzag, usp]
world_sizes: [1, 2, {}]
masks: [causal]
seqlens: [64]
shape: {{batch: 1, heads_q: 4, heads_kv: 4, head_dim: 8}}
passes: [fwd_bwd]
options: {{balance: [tokens, area]}}
timing: {{warmup: 0, min_iters: 2, max_iters: 2, min_time_s: 0}}
)",
                                             P),
                                 dump.string());
  REQUIRE(rows.size() == 12);
  if (comm::is_lead()) {
    // One folder per case with the gathered global tensors.
    std::size_t folders = 0;
    for (const auto& e : std::filesystem::directory_iterator(dump)) {
      ++folders;
      CHECK(std::filesystem::file_size(e.path() / "o.npy") > 64 * 4 * 8 * 4);  // [1, 64, 4, 8] floats
      CHECK(std::filesystem::exists(e.path() / "dk.npy"));
    }
    CHECK(folders == 12);
    std::filesystem::remove_all(dump);
    for (const auto& r : rows) {
      INFO(r.strategy << " x" << r.world_size << ": " << r.message);
      CHECK(r.status == Status::ok);
      CHECK(r.rel_l2_err < 1e-4);
      CHECK(r.time_ms > 0);
      bool has_rank_times = false;
      for (const auto& m : r.extra) has_rank_times = has_rank_times || (m.name == "rank_time_ms" && m.json);
      CHECK(has_rank_times);
    }
  }
}

TEST_CASE("CP bwd dumps hold o and lse (the forward the backward consumed)", "[cp][mpi][dump]") {
  const int P = comm::world().size();
  const auto dump =
      std::filesystem::temp_directory_path() / fmt::format("attnbench-cp-bwd-dump-{}", ::getpid());
  if (comm::is_lead()) std::filesystem::create_directories(dump);
  // The failure tests' one-iteration scenario, as a backward pass.
  std::string yaml = small_fwd_scenario("bwd_dump", "ring, usp", P);
  yaml.replace(yaml.find("passes: [fwd]"), 13, "passes: [bwd]");
  const auto rows = run_scenario(yaml, dump.string());
  REQUIRE(rows.size() == 2);
  if (comm::is_lead()) {
    std::size_t folders = 0;
    for (const auto& e : std::filesystem::directory_iterator(dump)) {
      ++folders;
      for (const char* t : {"o.npy", "lse.npy", "dq.npy", "dk.npy", "dv.npy", "do.npy"}) {
        INFO(e.path().string() << " " << t);
        CHECK(std::filesystem::exists(e.path() / t));
      }
    }
    CHECK(folders == 2);
    std::filesystem::remove_all(dump);
    for (const auto& r : rows) CHECK(r.status == Status::ok);
  }
}

TEST_CASE("a failure on one rank in prepare is an error row on every rank, and the sweep goes on",
          "[cp][mpi]") {
  const int P = comm::world().size();
  const auto rows =
      run_scenario(small_fwd_scenario("failing", "test_fail_prepare, test_oom_prepare, ring", P));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].status == Status::error);
  CHECK_THAT(rows[0].message, Catch::Contains("injected prepare failure"));
  if (P > 1) CHECK_THAT(rows[0].message, Catch::Contains(fmt::format("rank {}:", P - 1)));
  CHECK(rows[1].status == Status::oom);
  CHECK(rows[2].status == Status::ok);
}

// Run explicitly (ctest cp_mpi_abort): the job must end, non-zero, with one clear line.
TEST_CASE("a failure on one rank during communication ends the job", "[.abort]") {
  const int P = comm::world().size();
  run_scenario(small_fwd_scenario("aborting", "test_fail_run", P));
  FAIL("the job should have ended");
}

int main(int argc, char** argv) {
  comm::init_world(&argc, &argv);
  const int failed = Catch::Session().run(argc, argv);
  // Every rank's verdict counts: the test fails if any rank failed.
  double worst = failed;
  comm::world().allreduce(&worst, 1, ReduceOp::max);
  comm::finalize_world();
  return static_cast<int>(worst);
}
