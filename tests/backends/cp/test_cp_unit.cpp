// Single-process CP tests: balance assignment, LSE merge, and every strategy on one rank.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "backends/cp/layout.hpp"
#include "backends/cp/merge.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "harness/comm/local_comm.hpp"
#include "harness/sweep.hpp"
#include "tests/backends/cp/cp_test_util.hpp"

using namespace attnbench;
using namespace attnbench::cp;

namespace {

std::vector<double> areas(const Mask& m, const std::vector<Ranges>& parts) {
  std::vector<double> a;
  for (const auto& r : parts) a.push_back(static_cast<double>(rows_area(m, r)));
  return a;
}

}  // namespace

TEST_CASE("greedy assignment gives equal counts and puts the largest items apart", "[cp][balance]") {
  const std::vector<std::int64_t> cost{10, 9, 8, 1, 1, 1};
  const auto bin = greedy_equal_count(cost, 2, 3);
  std::int64_t load[2] = {0, 0};
  int count[2] = {0, 0};
  for (std::size_t i = 0; i < cost.size(); ++i) {
    load[bin[i]] += cost[i];
    ++count[bin[i]];
  }
  CHECK(count[0] == 3);
  CHECK(count[1] == 3);
  CHECK(bin[0] != bin[1]);                  // 10 and 9 never share a bin
  CHECK(std::max(load[0], load[1]) == 18);  // 10+1+1 | 9+8+1: the best equal-count split
}

TEST_CASE("layouts cover the sequence exactly once", "[cp][balance]") {
  const auto mask = build_mask({"causal", {}}, 1000, 1000);
  for (Balance b : {Balance::contiguous, Balance::zigzag, Balance::area})
    for (int parts : {1, 3, 4}) {
      const auto layout = assign(*mask, 1000, parts, b, 8);
      std::vector<int> seen(1000, 0);
      for (const auto& rs : layout)
        for (const auto& r : rs)
          for (auto t = r.begin; t < r.end; ++t) ++seen[t];
      for (int s : seen) REQUIRE(s == 1);
    }
}

TEST_CASE("zigzag and area balance even out causal and document masks", "[cp][balance]") {
  const std::int64_t S = 4096;
  const auto causal = build_mask({"causal", {}}, S, S);
  const double contiguous = imbalance(areas(*causal, assign(*causal, S, 4, Balance::contiguous)));
  CHECK(contiguous == Approx(1.75).epsilon(0.01));  // ranks 1:3:5:7
  CHECK(imbalance(areas(*causal, assign(*causal, S, 4, Balance::zigzag))) <= 1.05);
  CHECK(imbalance(areas(*causal, assign(*causal, S, 4, Balance::area))) <= 1.05);

  const auto docs = build_mask({"causal_document", {{"distribution", "pile"}, {"seed", "7"}}}, 16384, 16384);
  const double ring = imbalance(areas(*docs, assign(*docs, 16384, 4, Balance::contiguous)));
  const double area = imbalance(areas(*docs, assign(*docs, 16384, 4, Balance::area)));
  INFO("contiguous " << ring << ", area " << area);
  CHECK(area <= 1.10);
  CHECK(area <= ring);
}

TEST_CASE("members split every range of a slot", "[cp][balance]") {
  const auto pieces = split_members({{0, 10}, {20, 23}}, 4);
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[0] == Ranges{{0, 2}});  // its piece of [20, 23) is empty and dropped
  CHECK(pieces[1] == Ranges{{2, 5}, {20, 21}});
  CHECK(total_tokens(pieces[0]) + total_tokens(pieces[1]) + total_tokens(pieces[2]) +
            total_tokens(pieces[3]) ==
        13);
}

TEST_CASE("LSE merge of key halves equals attention over all keys", "[cp][merge]") {
  const std::int64_t S = 64, H = 2, D = 8;
  const auto p = test::make_problem({"causal", {}}, S, H, H, D, Pass::fwd, "none", 1);
  const Inputs in = generate_inputs(p);
  cpu::ReferenceChunkKernel k;
  ChunkTask t{p.mask.get(), 0, S, 0, S, 1, H, H, D, p.softmax_scale};
  std::vector<float> o(S * H * D), lse(S * H);
  k.forward(t, in.q.data(), in.k.data(), in.v.data(), o.data(), lse.data());

  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> acc(S * H * D, 0.0f), acc_lse(S * H, ninf), part(S * H * D), part_lse(S * H);
  for (std::int64_t k0 : {32, 0}) {  // later keys first: rows < 32 see nothing there (lse -inf)
    ChunkTask half = t;
    half.k_begin = k0;
    half.nk = 32;
    k.forward(half, in.q.data(), in.k.data() + k0 * H * D, in.v.data() + k0 * H * D, part.data(),
              part_lse.data());
    merge_partial(acc.data(), acc_lse.data(), part.data(), part_lse.data(), 1, S, H, D);
  }
  for (std::size_t i = 0; i < o.size(); ++i) REQUIRE(acc[i] == Approx(o[i]).margin(1e-6));
  for (std::size_t i = 0; i < lse.size(); ++i) REQUIRE(acc_lse[i] == Approx(lse[i]).margin(1e-5));

  // A partial at -inf changes nothing; a running row at -inf takes the partial.
  std::vector<float> empty(S * H * D, 123.0f), empty_lse(S * H, ninf);
  merge_partial(acc.data(), acc_lse.data(), empty.data(), empty_lse.data(), 1, S, H, D);
  for (std::size_t i = 0; i < o.size(); ++i) REQUIRE(acc[i] == Approx(o[i]).margin(1e-6));
  std::vector<float> fresh(S * H * D, 0.0f), fresh_lse(S * H, ninf);
  merge_partial(fresh.data(), fresh_lse.data(), o.data(), lse.data(), 1, S, H, D);
  CHECK(fresh == o);
  CHECK(fresh_lse == lse);
}

TEST_CASE("every strategy on one rank matches the reference", "[cp][strategies]") {
  auto comm = comm::make_local_communicator();
  for (const auto& mask : test::test_masks())
    for (const char* backend : {"cpu.reference", "cpu.flash"})
      for (const auto& name : test::strategy_names()) {
        const auto p = test::make_problem(mask, 128, 4, 2, 16, Pass::fwd_bwd, name, 1);
        const Inputs in = generate_inputs(p);
        const Outputs ref = test::reference_outputs(p, in);
        const Outputs got = test::run_strategy(p, backend, in, *comm);
        const CheckResult r = compare_outputs(got, ref, Pass::fwd_bwd, 1e-5, 1e-4);
        INFO(name << " on " << backend << " / " << mask.name << ": rel L2 " << r.rel_l2_err << " in "
                  << r.worst);
        CHECK(r.passed);
      }
}

TEST_CASE("CP strategies say why they refuse separate K/V heads or a V head dim of its own", "[cp][kvdims]") {
  for (const auto& name : test::strategy_names()) {
    const Strategy* strategy = Registry::instance().find_strategy(name);
    REQUIRE(strategy != nullptr);
    const Backend& kernel = *Registry::instance().find_backend("cpu.flash");
    auto p = test::make_problem({"causal", {}}, 64, 4, 2, 16, Pass::fwd_bwd, name, 2);
    CHECK(strategy->supports(p, kernel).ok);  // K and V alike: supported
    p.shape.heads_v = 4;
    Support s = strategy->supports(p, kernel);
    CHECK_FALSE(s.ok);
    CHECK_FALSE(s.is_invalid());
    CHECK_THAT(s.reason, Catch::Contains(name + ": heads_k != heads_v not supported"));
    p.shape.heads_v = 2;
    p.shape.head_dim_v = 32;
    s = strategy->supports(p, kernel);
    CHECK_FALSE(s.ok);
    CHECK_THAT(s.reason, Catch::Contains(name + ": head_dim_v != head_dim not supported"));
  }
}

TEST_CASE("bad CP options are input errors naming the option", "[cp][options]") {
  auto comm = comm::make_local_communicator();
  const auto p = test::make_problem({"causal", {}}, 64, 2, 2, 8, Pass::fwd, "ring", 1, {{"balance", "rows"}});
  const Inputs in = generate_inputs(p);
  CHECK_THROWS_WITH(test::run_strategy(p, "cpu.reference", in, *comm),
                    Catch::Contains("balance") && Catch::Contains("tokens, area"));
}

TEST_CASE("a CP case runs through the one pipeline, its bwd dump holds o and lse like a single-device one",
          "[cp][dump]") {
  const auto dump =
      std::filesystem::temp_directory_path() / fmt::format("attnbench-cp-bwd-dump-{}", ::getpid());
  std::filesystem::remove_all(dump);
  std::filesystem::create_directories(dump);
  const Scenario s = parse_scenario(R"(
name: cp_bwd_dump
backends: [cpu.reference]
strategies: [none, ring_zigzag]
masks: [causal]
seqlens: [32]
shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}
passes: [bwd]
timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}
)",
                                    "cp_bwd.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  opt.dump_dir = dump.string();
  const auto rows = run_cases(s, expand(s), opt);
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) {
    INFO(r.strategy << ": " << r.message);
    CHECK(r.status == Status::ok);
  }
  std::size_t folders = 0;
  for (const auto& e : std::filesystem::directory_iterator(dump)) {
    ++folders;
    INFO(e.path().string());
    for (const char* t : {"o.npy", "lse.npy", "dq.npy", "dk.npy", "dv.npy"})
      CHECK(std::filesystem::exists(e.path() / t));
  }
  CHECK(folders == 2);
  std::filesystem::remove_all(dump);
}
