// The device ring plan (comm: nccl) on one process: its checks hold, they catch broken plans, and it computes
// right.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "backends/cp/ring_plan.hpp"
#include "harness/check.hpp"
#include "harness/comm/local_comm.hpp"
#include "harness/comm/device_comm.hpp"
#include "harness/inputs.hpp"
#include "harness/sweep.hpp"
#include "backends/cp/cp_execution.hpp"
#include "tests/backends/cp/cp_test_util.hpp"
#include "tests/backends/cp/device_ring_test_util.hpp"

using namespace attnbench;
using namespace attnbench::cp;

namespace {

std::string joined(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += e + "\n";
  return s;
}

bool any_contains(const std::vector<std::string>& errors, const std::string& what) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const auto& e) { return e.find(what) != std::string::npos; });
}

// Index of the first op matching `pred`.
template <class Pred>
std::size_t find_op(const RingPlan& p, Pred pred) {
  for (std::size_t i = 0; i < p.ops.size(); ++i)
    if (pred(p.ops[i])) return i;
  FAIL("no such op in the plan");
  return 0;
}

}  // namespace

TEST_CASE("the device ring plan is sound on every rank for rings of 1 to 6, forward and backward",
          "[cp][nccl][plan]") {
  for (bool backward : {false, true})
    for (int P = 1; P <= 6; ++P) {
      std::vector<RingPlan> plans;
      for (int me = 0; me < P; ++me) {
        plans.push_back(plan_ring(me, P, backward));
        const auto errors = check_ring_plan(plans.back());
        INFO("P " << P << " rank " << me << (backward ? " bwd" : " fwd") << "\n" << joined(errors));
        CHECK(errors.empty());
      }
      const auto pairing = check_ring_pairing(plans);
      INFO("P " << P << "\n" << joined(pairing));
      CHECK(pairing.empty());
    }
}

TEST_CASE("the plan overlaps: the next block's receive is issued before the current block is attended",
          "[cp][nccl][plan]") {
  const RingPlan p = plan_ring(1, 4, false);
  for (int t = 0; t < 3; ++t) {
    const auto recv = find_op(p, [&](const PlanOp& o) { return o.kind == OpKind::recv && o.step == t; });
    const auto attend =
        find_op(p, [&](const PlanOp& o) { return o.kind == OpKind::attend_fwd && o.step == t; });
    CHECK(recv < attend);
    CHECK(p.ops[recv].buffer != p.ops[attend].buffer);  // double-buffered
  }
  // Every step has its three timing marks, in order.
  for (int t = 0; t < 4; ++t) {
    const auto w = find_op(p, [&](const PlanOp& o) { return o.mark == Mark::wait_begin && o.step == t; });
    const auto b = find_op(p, [&](const PlanOp& o) { return o.mark == Mark::compute_begin && o.step == t; });
    const auto e = find_op(p, [&](const PlanOp& o) { return o.mark == Mark::compute_end && o.step == t; });
    CHECK((w < b && b < e));
  }
}

TEST_CASE("the plan checker catches a compute that does not wait for its block", "[cp][nccl][plan]") {
  RingPlan p = plan_ring(0, 3, false);
  const auto i = find_op(
      p, [](const PlanOp& o) { return o.lane == Lane::compute && o.kind == OpKind::wait && o.step == 1; });
  p.ops.erase(p.ops.begin() + static_cast<std::ptrdiff_t>(i));
  const auto errors = check_ring_plan(p);
  INFO(joined(errors));
  CHECK(any_contains(errors, "unordered accesses to kv[1]"));
}

TEST_CASE("the plan checker catches a receive into a buffer the compute stream still reads",
          "[cp][nccl][plan]") {
  // The forward (in the backward the accumulator's event happens to order it too).
  RingPlan p = plan_ring(2, 4, false);
  const auto i = find_op(p, [](const PlanOp& o) {
    return o.lane == Lane::comm && o.kind == OpKind::wait && o.event == slot::freed + 0;
  });
  p.ops.erase(p.ops.begin() + static_cast<std::ptrdiff_t>(i));
  const auto errors = check_ring_plan(p);
  INFO(joined(errors));
  CHECK(any_contains(errors, "unordered accesses to kv[0]"));
}

TEST_CASE("the plan checker catches a step that reads the wrong buffer", "[cp][nccl][plan]") {
  RingPlan p = plan_ring(0, 4, false);
  const auto i = find_op(p, [](const PlanOp& o) { return o.kind == OpKind::attend_fwd && o.step == 2; });
  p.ops[i].buffer = 1;  // step 2's block is in kv[0]; kv[1] is being received into (or holds another block)
  const auto errors = check_ring_plan(p);
  INFO(joined(errors));
  CHECK(!errors.empty());
}

TEST_CASE("the plan checker catches dK/dV stored before the accumulator is home", "[cp][nccl][plan]") {
  RingPlan p = plan_ring(1, 3, true);
  const auto i = find_op(p, [](const PlanOp& o) { return o.kind == OpKind::wait && o.step == 3; });
  p.ops.erase(p.ops.begin() + static_cast<std::ptrdiff_t>(i));
  const auto errors = check_ring_plan(p);
  INFO(joined(errors));
  CHECK(any_contains(errors, "store_grad"));
}

TEST_CASE("the plan checker catches a wait bound to a re-recorded event", "[cp][nccl][plan]") {
  RingPlan p = plan_ring(0, 5, false);
  // Step 3's compute waits for kv[1]'s arrival; point it at the arrival recorded two steps earlier.
  const auto i = find_op(
      p, [](const PlanOp& o) { return o.lane == Lane::compute && o.kind == OpKind::wait && o.step == 3; });
  const auto older =
      find_op(p, [&](const PlanOp& o) { return o.kind == OpKind::record && o.event == p.ops[i].event; });
  p.ops[i].instance = p.ops[older].instance;
  const auto errors = check_ring_plan(p);
  INFO(joined(errors));
  CHECK(any_contains(errors, "not the slot's latest record"));
}

TEST_CASE("the pairing check catches ranks that disagree on a message", "[cp][nccl][plan]") {
  std::vector<RingPlan> plans;
  for (int me = 0; me < 3; ++me) plans.push_back(plan_ring(me, 3, true));
  const auto i =
      find_op(plans[1], [](const PlanOp& o) { return o.kind == OpKind::recv && o.family == Family::grad; });
  plans[1].ops[i].owner = 2;
  CHECK(!check_ring_pairing(plans).empty());
}

TEST_CASE("the host device communicator: groups, self-messages, all-gather and all-to-all on one rank",
          "[cp][nccl][fake]") {
  auto local = comm::make_local_communicator();
  auto dc = comm::make_host_device_comm(*local);
  CHECK(dc->kind() == "host-fake");
  std::vector<float> a{1, 2, 3}, b(3, 0);
  dc->group_start();
  dc->send(a.data(), 12, 0, nullptr);
  dc->recv(b.data(), 12, 0, nullptr);
  dc->group_end();
  CHECK(b == a);
  std::vector<float> g(3, 0);
  dc->all_gatherv(a.data(), g.data(), {12}, nullptr);
  CHECK(g == a);
  std::vector<float> t(3, 0);
  dc->all_to_allv(a.data(), {12}, t.data(), {12}, nullptr);
  CHECK(t == a);
  CHECK(dc->bytes_sent() == 0);  // nothing left the rank
  CHECK_THROWS(dc->group_end());
}

TEST_CASE("the device ring plan on one rank matches the float64 reference", "[cp][nccl]") {
  auto local = comm::make_local_communicator();
  for (const auto& mask :
       {MaskSpec{"causal", {}}, MaskSpec{"causal_document", {{"doc_lengths", "[30, 50, 48]"}}}}) {
    const Problem p = test::make_problem(mask, 128, 4, 2, 16, Pass::fwd_bwd, "ring", 1);
    const Inputs in = generate_inputs(p);
    std::vector<StepTime> times;
    const Outputs got = test::run_device_ring(p, "cpu.flash", in, *local, Balance::contiguous, &times);
    const CheckResult r = compare_outputs(got, test::reference_outputs(p, in), Pass::fwd_bwd, 1e-5, 1e-4);
    INFO(mask.name << ": rel L2 " << r.rel_l2_err);
    CHECK(r.passed);
    REQUIRE(times.size() == 1);
    CHECK(times[0].compute_s > 0);
    CHECK(times[0].exposed_s >= 0);
  }
}

TEST_CASE("comm: nccl is unsupported on CPU backends for every strategy, naming the reason",
          "[cp][nccl][options]") {
  const Backend& cpu = *Registry::instance().find_backend("cpu.flash");
  for (const auto& name : test::strategy_names()) {
    const auto p = test::make_problem({"causal", {}}, 64, 4, 2, 8, Pass::fwd, name, 2, {{"comm", "nccl"}});
    const Support s = Registry::instance().find_strategy(name)->supports(p, cpu);
    INFO(name << ": " << s.reason);
    CHECK_FALSE(s.ok);
    CHECK_FALSE(s.is_invalid());  // a row that says why, not bad input
    CHECK_THAT(s.reason, Catch::Contains("comm: nccl") && Catch::Contains("cpu.flash runs on the host"));
    // comm: host (the default) is today's path.
    auto host = p;
    host.options["comm"] = "host";
    CHECK(Registry::instance().find_strategy(name)->supports(host, cpu).ok);
  }
}

TEST_CASE("comm: nccl on a CUDA backend says what this build lacks", "[cp][nccl][options]") {
  const Backend* cuda = Registry::instance().find_backend("cuda.flash");
  if (cuda == nullptr) {  // a build without CUDA has no such backend: say the test checked nothing
    WARN("no cuda.flash in this build: comm: nccl on a CUDA backend not checked");
    return;
  }
  const auto p = test::make_problem({"causal", {}}, 64, 4, 2, 8, Pass::fwd, "ring", 2, {{"comm", "nccl"}});
  // comm_support itself: the strategy's answer on a machine without a GPU is "no CUDA device".
  const Support s = comm_support(p, *cuda);
  INFO(s.reason);
  CHECK_FALSE(s.ok);
  CHECK_THAT(s.reason, Catch::Contains("comm: nccl"));
  // Without NCCL the reason is the missing library; with it, the missing device-pointer chunk entry.
  if (comm::nccl_unavailable_reason().empty()) CHECK_THAT(s.reason, Catch::Contains("device-pointer"));
}

TEST_CASE("a bad comm value is an input error listing host and nccl", "[cp][nccl][options]") {
  const auto p = test::make_problem({"causal", {}}, 64, 2, 2, 8, Pass::fwd, "ring", 1, {{"comm", "gloo"}});
  const Support s = options_support(p);
  CHECK(s.is_invalid());
  CHECK_THAT(s.reason, Catch::Contains("options.comm: 'gloo'") && Catch::Contains("accepted: host, nccl"));
}

TEST_CASE("a sweep over comm: host and nccl gives ok rows and unsupported ones with the reason",
          "[cp][nccl][options]") {
  const Scenario s = parse_scenario(R"(
name: cp_comm
backends: [cpu.flash]
strategies: [ring, allgather_kv, ulysses]
masks: [causal]
seqlens: [32]
shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}
passes: [fwd]
options: {comm: [host, nccl]}
timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}
)",
                                    "cp_comm.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  const auto rows = run_cases(s, expand(s), opt);
  REQUIRE(rows.size() == 6);
  int ok = 0, unsupported = 0;
  for (const auto& r : rows) {
    INFO(r.strategy << ": " << r.message);
    if (r.status == Status::ok) ++ok;
    if (r.status == Status::unsupported) {
      ++unsupported;
      CHECK_THAT(r.message, Catch::Contains("comm: nccl"));
    }
  }
  CHECK(ok == 3);
  CHECK(unsupported == 3);
}

TEST_CASE("the NCCL library note names a version exactly when NCCL is loadable", "[cp][nccl]") {
  const std::string note = comm::nccl_library_note();
  INFO(note);
  if (comm::nccl_unavailable_reason().empty())
    CHECK_THAT(note, Catch::StartsWith("NCCL 2."));
  else
    CHECK(note.empty());
}
