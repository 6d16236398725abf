// The case pipeline: an injected (fake) measurement, exceptions of any type as error rows, the axis product.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "attnbench/registry.hpp"
#include "harness/axis_product.hpp"
#include "harness/comm/local_comm.hpp"
#include "harness/case_row.hpp"
#include "harness/pipeline.hpp"
#include "harness/sweep.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {

// A test backend whose prepare() or run() throws something that is not a std::exception.
struct NotAStdException {
  int code = 7;
};

class ThrowingBackend final : public Backend {
 public:
  enum class Where { prepare_int, run_struct };
  explicit ThrowingBackend(Where w) : where_(w) {}
  BackendInfo info() const override {
    BackendInfo i;
    i.name = where_ == Where::prepare_int ? "test.throws_int_in_prepare" : "test.throws_struct_in_run";
    i.dtypes = {DType::fp32};
    return i;
  }
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override {
    if (where_ == Where::prepare_int) throw 42;
    struct Exec final : Execution {
      void run() override { throw NotAStdException{}; }
      void fetch_outputs(Outputs&) override {}
    };
    return std::make_unique<Exec>();
  }

 private:
  Where where_;
};

const bool registered = [] {
  Registry::instance().add_backend(std::make_shared<ThrowingBackend>(ThrowingBackend::Where::prepare_int),
                                   "test");
  Registry::instance().add_backend(std::make_shared<ThrowingBackend>(ThrowingBackend::Where::run_struct),
                                   "test");
  return true;
}();

// A measurement that runs the execution once (so its outputs exist) and reports fixed times.
class FakeMeasurement final : public Measurement {
 public:
  int timed = 0, filled = 0;
  TimingResult time(const TimingConfig&, Execution& exec) override {
    ++timed;
    exec.run();
    TimingResult t;
    t.seconds = {0.002, 0.002, 0.002};
    t.compute_seconds.assign(3, ResultRow::nan);
    t.comm_seconds.assign(3, ResultRow::nan);
    t.stop_reason = "fake";
    return t;
  }
  void fill(ResultRow& row, const Problem& p, const TimingResult& t, std::vector<Metric>, double) override {
    ++filled;
    fill_timing(row, p, t);
  }
};

const char* small = R"(
name: pipeline
backends: [cpu.reference]
masks: [causal]
seqlens: [32]
shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}
passes: [fwd]
timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}
)";

std::string stop_reason(const ResultRow& r) {
  for (const auto& m : r.extra)
    if (m.name == "stop_reason") return m.text;
  return "";
}

}  // namespace

TEST_CASE("the pipeline times through the injected measurement and still checks the outputs", "[pipeline]") {
  const Scenario s = parse_scenario(small, "pipeline.yaml");
  const auto cases = expand(s);
  REQUIRE(cases.size() == 1);
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  CaseData data(s);
  SweepContext ctx{s, opt, data};
  FakeMeasurement fake;
  const ResultRow row = run_case_on(cases[0], ctx, base_row(cases[0]), nullptr, fake);
  CHECK(fake.timed == 1);
  CHECK(fake.filled == 1);
  INFO(row.message);
  CHECK(row.status == Status::ok);
  CHECK(row.time_ms == Approx(2.0));
  CHECK(row.iters == 3);
  CHECK(stop_reason(row) == "fake");
  CHECK(row.rel_l2_err < 1e-6);  // the check ran on the execution's real outputs
}

TEST_CASE("an exception of any type from a backend becomes an error row, and the sweep goes on",
          "[pipeline]") {
  const Scenario s = parse_scenario(R"(
name: throwing
backends: [test.throws_int_in_prepare, test.throws_struct_in_run, cpu.reference]
masks: [full]
seqlens: [16]
shape: {batch: 1, heads_q: 1, heads_kv: 1, head_dim: 8}
timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}
)",
                                    "throwing.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  const auto rows = run_cases(s, expand(s), opt);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].status == Status::error);
  CHECK_THAT(rows[0].message, Contains("non-standard exception"));
  CHECK(rows[1].status == Status::error);
  CHECK_THAT(rows[1].message, Contains("non-standard exception"));
  CHECK(rows[2].status == Status::ok);
}

TEST_CASE("the axis product visits points in nested-loop order", "[pipeline][scenario]") {
  std::vector<std::vector<std::size_t>> seen;
  for_each_point({2, 1, 3}, [&](const std::vector<std::size_t>& at) { seen.push_back(at); });
  const std::vector<std::vector<std::size_t>> expected{{0, 0, 0}, {0, 0, 1}, {0, 0, 2},
                                                       {1, 0, 0}, {1, 0, 1}, {1, 0, 2}};
  CHECK(seen == expected);
  int points = 0;
  for_each_point({}, [&](const std::vector<std::size_t>&) { ++points; });
  CHECK(points == 1);  // the product of no axes is one point
  for_each_point({3, 0}, [&](const std::vector<std::size_t>&) { ++points; });
  CHECK(points == 1);  // an empty axis gives none
  const auto a = assignments({{"b", {"1", "2"}}, {"a", {"x", "y"}}});
  REQUIRE(a.size() == 4);
  CHECK(a[1].at("b") == "1");
  CHECK(a[1].at("a") == "y");  // the last axis varies fastest
  CHECK(a[2].at("b") == "2");
}

TEST_CASE("the distributed measurement shares the stopping rule and adds per-rank columns", "[pipeline]") {
  auto comm = comm::make_local_communicator();
  struct Exec final : Execution {
    int runs = 0;
    void run() override { ++runs; }
    IterationTime timed_run() override {
      run();
      return {0.001, 0.0008, 0.0002};
    }
    void fetch_outputs(Outputs&) override {}
    std::vector<Metric> metrics() override { return {{"bytes_sent", 64.0, {}}}; }
  } exec;
  TimingConfig cfg;
  cfg.warmup = 1;
  cfg.min_iters = 3;
  cfg.max_iters = 3;
  cfg.min_time_s = 1e3;  // never converges: stops at max_iters, as the local loop would
  DistributedMeasurement m(*comm);
  const TimingResult t = m.time(cfg, exec);
  CHECK(exec.runs == 4);
  CHECK(t.stop_reason == "max_iters");
  CHECK(t.stop_reason == LocalMeasurement().time(cfg, exec).stop_reason);
  Problem p;
  p.shape = {1, 1, 1, 16, 16, 8};
  ResultRow row;
  m.fill(row, p, t, exec.metrics(), 1024.0);
  CHECK(row.time_ms == Approx(1.0));
  CHECK(row.peak_mem_bytes == 1024);
  std::map<std::string, Metric> extra;
  for (const auto& x : row.extra) extra[x.name] = x;
  CHECK(extra["compute_ms"].value == Approx(0.8));
  CHECK(extra["rank_time_ms"].text == "[1]");
  CHECK(extra["bytes_sent"].value == 64.0);
  CHECK(extra["rank_bytes_sent"].text == "[64]");
}
