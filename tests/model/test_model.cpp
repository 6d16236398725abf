// Scale model unit tests: slice-area closed forms against Mask::area_in, the shared ring schedule, machine
// file errors, profile fits, unsupported rows and the 1024-GPU timing budget.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <omp.h>

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "attnbench/types.hpp"
#include "backends/cp/schedule.hpp"
#include "harness/cli/cli.hpp"
#include "masks/library.hpp"
#include "model/cost.hpp"
#include "model/machine.hpp"
#include "model/profile.hpp"
#include "model/report.hpp"
#include "reports/json_reader.hpp"
#include "reports/markdown_writer.hpp"
#include "model/slice_area.hpp"

using namespace attnbench;

namespace {

Problem problem(const MaskSpec& mask, std::int64_t S, int P, const std::string& strategy,
                std::int64_t heads = 8) {
  Problem p;
  p.shape = {1, heads, heads, S, S, 64};
  p.dtype = DType::bf16;
  p.pass = Pass::fwd;
  p.mask = build_mask(mask, S, S);
  p.strategy = strategy;
  p.world_size = P;
  return p;
}

model::Machine h100() {
  return model::parse_machine(
      "name: t\ngpus_per_node: 8\nintra: {alpha_us: 10, gbps: 370}\ninter: {alpha_us: 20, gbps: "
      "45}\npeak_tflops: 989\n",
      "t.yaml");
}

}  // namespace

TEST_CASE("slice areas equal Mask::area_in on random rectangles of every mask family", "[model]") {
  const std::vector<MaskSpec> masks{
      {"full", {}},
      {"causal", {}},
      {"causal_document", {{"doc_lengths", "[30, 50, 48, 7, 65]"}}},
      {"full_document", {{"doc_lengths", "[100, 100]"}}},
      {"share_question", {{"doc_lengths", "[40, 30, 58, 72]"}}},
      {"causal_sliding_window", {{"window", "17"}}},
      {"global_sliding_window", {{"global", "8"}, {"window", "16"}}},
      {"block_sparse", {{"block", "16"}, {"keep", "0.3"}, {"seed", "5"}}},
      {"prefix_lm_causal", {{"prefix", "37"}}},
      {"sliding_window", {{"window", "23"}}},
      {"prefix_lm_document", {{"doc_lengths", "[90, 60, 50]"}}},
      {"causal_blockwise", {{"doc_lengths", "[70, 60, 70]"}}},
  };
  std::mt19937 rng(11);
  for (const auto& spec : masks) {
    const std::int64_t S = 200;
    const auto mask = build_mask(spec, S, S);
    const model::SliceAreas areas(*mask);
    std::uniform_int_distribution<std::int64_t> pos(0, S - 1);
    for (int i = 0; i < 300; ++i) {
      std::int64_t q0 = pos(rng), q1 = pos(rng) + 1, k0 = pos(rng), k1 = pos(rng) + 1;
      if (q0 > q1) std::swap(q0, q1);
      if (k0 > k1) std::swap(k0, k1);
      INFO(spec.name << " [" << q0 << "," << q1 << ") x [" << k0 << "," << k1 << ")");
      REQUIRE(areas.area_in(q0, q1 - q0, k0, k1 - k0) == mask->area_in(q0, q1 - q0, k0, k1 - k0));
    }
    CHECK(areas.area_in(0, S, 0, S) == mask->area());
  }
}

TEST_CASE("the ring schedule visits every block once and counts only bytes that leave the rank", "[model]") {
  const std::vector<std::uint64_t> block{10, 20, 30, 40};
  for (int W : {1, 2, 4})
    for (int me = 0; me < 4; ++me) {
      const auto s = cp::ring_schedule(me, W, block, false);
      REQUIRE(s.steps.size() == 4);
      std::vector<int> seen(4, 0);
      for (const auto& st : s.steps) ++seen[st.owner];
      CHECK(seen == std::vector<int>{1, 1, 1, 1});
      CHECK(s.steps[0].owner == me);  // the own block first
    }
  // A plain ring (one window of 4): three passes of the blocks held at the time.
  const auto s = cp::ring_schedule(0, 4, block, false);
  CHECK(s.bytes() == 10 + 40 + 30);
  // A ring of one never sends.
  CHECK(cp::ring_schedule(0, 1, {10}, true).bytes() == 0);
}

TEST_CASE("machine files: bad fields name the file, the field and the accepted values", "[model]") {
  CHECK(h100().inter.gbps == 45);
  auto err = [](const std::string& text) {
    try {
      model::parse_machine(text, "m.yaml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("gpus_per_node: 8\nintra: {alpha_us: 1, gbps: 1}\ninter: {alpha_us: 1, gbps: 1}\n") ==
        "m.yaml: peak_tflops: missing (accepted: a positive number)");
  CHECK(err("gpus_per_node: 8\nintra: {alpha_us: 1, gbps: -3}\ninter: {alpha_us: 1, gbps: 1}\npeak_tflops: "
            "1\n") == "m.yaml: intra.gbps: -3 is not positive (accepted: a positive number)");
  CHECK_THAT(err("gpus: 8\n"),
             Catch::StartsWith("m.yaml: gpus: unknown field (accepted: name, gpus_per_node"));
  CHECK_THAT(err("gpus_per_node: 8\nintra: {alpha_us: 1, gbps: 1, x: 2}\n"),
             Catch::Contains("intra.x: unknown field"));
}

TEST_CASE("profile fits recover a line, and the model uses them", "[model]") {
  std::vector<ResultRow> rows;
  for (std::int64_t area : {1000000, 4000000, 9000000}) {
    ResultRow r;
    r.backend = "b";
    r.head_dim = 64;
    r.dtype = "fp32";
    r.pass = "fwd";
    r.batch = 1;
    r.heads_q = 2;
    r.area = area;
    r.time_ms = 0.5 + 3.0 * static_cast<double>(area * 2) / 1e9;
    rows.push_back(r);
  }
  const auto fit = model::fit_profile(rows);
  REQUIRE(fit.size() == 1);
  CHECK(fit[0].a_ms == Approx(0.5));
  CHECK(fit[0].b_ms_per_gwork == Approx(3.0));
  CHECK(model::find_profile(fit, "b", 64, "fp32", "fwd").has_value());
  CHECK_FALSE(model::find_profile(fit, "b", 64, "fp32", "bwd").has_value());
}

TEST_CASE(
    "Ulysses past the head count is unsupported with the reason, and zigzag beats the contiguous ring on "
    "causal",
    "[model]") {
  const auto m = h100();
  auto u = model::model_case(problem({"causal", {}}, 1 << 16, 16, "ulysses", 8), "cpu.flash", m);
  CHECK_FALSE(u.supported);
  CHECK_THAT(u.reason, Catch::Contains("heads_q (8) divisible by the Ulysses degree (16)"));
  auto r8 = model::model_case(problem({"causal", {}}, 1 << 16, 8, "ring_zigzag"), "cpu.flash", m);
  REQUIRE(r8.supported);
  CHECK(r8.time_ms > 0);
  CHECK(r8.imbalance == Approx(1.0));  // zigzag balances causal exactly at these sizes
  auto c8 = model::model_case(problem({"causal", {}}, 1 << 16, 8, "ring"), "cpu.flash", m);
  CHECK(c8.imbalance > 1.5);  // contiguous shards: the last rank has the most work
  CHECK(c8.time_ms > r8.time_ms);
}

TEST_CASE("1024 GPUs x 6 strategies on document masks: every strategy modelled or refused with its reason",
          "[model]") {
  // The time budget (30 masks under 10 s) is a benchmark, bench/model_bench.cpp, not a test.
  const auto m = h100();
  int modelled = 0;
  const std::int64_t S = 8192ll * 1024;
  for (int seed = 0; seed < 2; ++seed) {
    const MaskSpec doc{"causal_document", {{"distribution", "pile"}, {"seed", std::to_string(seed)}}};
    auto base = problem(doc, S, 1024, "ring", 64);
    base.shape.heads_kv = 8;
    for (const char* st : {"ring", "ring_zigzag", "allgather_kv", "ulysses", "usp", "double_ring"}) {
      Problem p = base;
      p.strategy = st;
      const auto c = model::model_case(p, "cpu.flash", m);
      modelled += c.supported;
      if (c.supported) {
        CHECK(c.time_ms > 0);
        CHECK(c.max_bytes() > 0);
      } else {
        CHECK(std::string(st) == "ulysses");  // 64 heads cannot split over 1024 ranks
        CHECK_FALSE(c.reason.empty());
      }
    }
  }
  CHECK(modelled == 10);
}

TEST_CASE("modelled rows are not failures: status text, Markdown cells, recommendation", "[model]") {
  CHECK(to_string(Status::modelled) == "modelled");
  CHECK(parse_status("modelled") == Status::modelled);
  model::CaseModel m;
  m.time_ms = 2;
  m.rank_bytes = {10, 30};
  m.rank_area = {1, 1};
  ResultRow row;
  row.strategy = "ring";
  row.extra.push_back({"gflop", 4, {}});
  model::fill_row(row, m);
  CHECK(row.status == Status::modelled);
  CHECK(row.tflops == Approx(2e-3));
  CHECK(row.find_extra("bytes_per_rank")->value == 30);
  CHECK_THAT(markdown_cell(row), Catch::StartsWith("≈"));
  ResultRow slower = row;
  slower.strategy = "ulysses";
  slower.time_ms = 3;
  const std::string md = model::recommend_markdown({row, slower});
  CHECK_THAT(md, Catch::Contains("| ring |"));
  CHECK_THAT(md, Catch::Contains("| ulysses | 3.000 | 50.0 % |"));
}

TEST_CASE("attnbench model writes modelled rows, and a bad machine file exits 2", "[model]") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("attnbench-model-{}", ::getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "s.yaml")
        << "name: m\nbackends: [cpu.flash]\nstrategies: [ring_zigzag, ulysses]\n"
           "world_sizes: [2, 16]\nmasks: [causal]\nseqlens: [4096]\n"
           "shape: {batch: 1, heads_q: 8, heads_kv: 8, head_dim: 64}\npasses: [fwd]\n";
    std::ofstream(dir / "bad.yaml")
        << "gpus_per_node: 8\nintra: {alpha_us: 1, gbps: 1}\ninter: {alpha_us: 1, gbps: 1}\n";
  }
  auto cli = [](std::vector<std::string> args) {
    std::vector<const char*> argv{"attnbench"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return run_cli(static_cast<int>(argv.size()), argv.data());
  };
  const std::string s = (dir / "s.yaml").string(), out = (dir / "out").string();
  CHECK(cli({"model", s, "--machine", ATTNBENCH_SOURCE_DIR "/machines/h100-8x-nvlink-ib400.yaml", "--out",
             out, "--quiet", "--recommend"}) == 0);
  const auto rows = read_results_json(out + "/results.json").rows;
  REQUIRE(rows.size() == 4);
  int modelled = 0, unsupported = 0;
  for (const auto& r : rows) {
    modelled += r.status == Status::modelled;
    unsupported += r.status == Status::unsupported;
  }
  CHECK(modelled == 3);  // ulysses cannot split 8 heads over 16 ranks
  CHECK(unsupported == 1);
  CHECK(std::filesystem::exists(out + "/recommend.md"));
  CHECK(cli({"model", s, "--machine", (dir / "bad.yaml").string(), "--out", out}) == 2);
  std::filesystem::remove_all(dir);
}

namespace {

ResultRow cp_row(const std::string& strategy, const std::string& mask, Status status, double ms) {
  ResultRow r;
  r.backend = "cpu.flash";
  r.strategy = strategy;
  r.world_size = 2;
  r.mask = mask;
  r.batch = 1;
  r.heads_q = r.heads_kv = 4;
  r.seqlen_q = r.seqlen_k = 4096;
  r.head_dim = 64;
  r.dtype = "fp32";
  r.pass = "fwd";
  r.status = status;
  r.time_ms = ms;
  return r;
}

}  // namespace

TEST_CASE("validate: MAPE, tied modelled strategies, winner verdict and regret", "[model]") {
  const std::vector<ResultRow> modelled = {
      cp_row("ring", "full", Status::modelled, 100), cp_row("ulysses", "full", Status::modelled, 100.5),
      cp_row("usp", "full", Status::modelled, 100.5), cp_row("ring", "causal", Status::modelled, 80),
      cp_row("ring_zigzag", "causal", Status::modelled, 50)};
  const std::vector<ResultRow> measured = {
      cp_row("ring", "full", Status::ok, 110),
      cp_row("ulysses", "full", Status::ok, 125),
      cp_row("usp", "full", Status::ok, 100),
      cp_row("ring", "causal", Status::ok, 40),
      cp_row("ring_zigzag", "causal", Status::ok, 50),
      cp_row("none", "causal", Status::ok, 1),           // single-device rows are not CP rows
      cp_row("allgather_kv", "causal", Status::ok, 1)};  // no modelled row: not paired
  const auto v = model::validate(modelled, measured, 1.0);
  REQUIRE(v.pairs.size() == 5);
  // |100-110|/110, |100.5-125|/125, |100.5-100|/100, |80-40|/40, 0
  const double mape = (10.0 / 110 + 24.5 / 125 + 0.5 / 100 + 40.0 / 40 + 0) / 5 * 100;
  CHECK(v.mape == Approx(mape));
  REQUIRE(v.winners.size() == 2);
  const auto& causal = v.winners[0];  // groups sort by name
  CHECK(causal.measured == "ring");
  CHECK(causal.modelled == std::vector<std::string>{"ring_zigzag"});
  CHECK_FALSE(causal.same);
  CHECK(causal.regret_pct == Approx(25));  // ring_zigzag measured 50 ms, ring 40 ms
  const auto& full = v.winners[1];
  CHECK(full.measured == "usp");
  CHECK(full.modelled == std::vector<std::string>{"ring", "ulysses", "usp"});  // within 1 % of 100 ms
  CHECK(full.same);
  CHECK(full.regret_pct == Approx(10));
  CHECK(v.winners_same() == 1);
  // With no tolerance the ties go and usp no longer counts.
  const auto strict = model::validate(modelled, measured, 0.0);
  CHECK(strict.winners[1].modelled == std::vector<std::string>{"ring"});
  CHECK_FALSE(strict.winners[1].same);
  const std::string text = model::validation_text(v);
  CHECK(text.find("| ring (ulysses, usp) | yes | 10.0 |") != std::string::npos);
  CHECK(text.find("in 1 of 2 groups") != std::string::npos);
}
