// results.md pivot tables: the study's layout, checked against a golden file.
#include <catch2/catch.hpp>

#include "reports/markdown_writer.hpp"
#include "tests/reports_compare/golden.hpp"

using namespace attnbench;
using attnbench::test::fixture;

namespace {

ResultRow row(std::string backend, std::string pass, std::string mask, std::string params,
              std::int64_t seqlen, double tflops, Status status = Status::ok, std::string strategy = "none",
              int world_size = 1) {
  ResultRow r;
  r.backend = std::move(backend);
  r.pass = std::move(pass);
  r.mask = std::move(mask);
  r.mask_params = std::move(params);
  r.seqlen_q = r.seqlen_k = seqlen;
  r.tflops = tflops;
  r.status = status;
  r.strategy = std::move(strategy);
  r.world_size = world_size;
  r.batch = 1;
  r.heads_q = 8;
  r.heads_kv = 2;
  r.head_dim = 64;
  r.dtype = "fp32";
  return r;
}

// A sweep as `attnbench run` would produce it: kernels on two masks, one of
// them with documents sampled per sequence length, and a CP sweep.
std::vector<ResultRow> sweep() {
  const std::string docs512 = R"({"distribution":"pile","doc_lengths":[300,212],"seed":7})";
  const std::string docs1024 = R"({"distribution":"pile","doc_lengths":[700,300,24],"seed":7})";
  return {
      row("cpu.reference", "fwd", "causal", "{}", 512, 0.00412),
      row("cpu.flash", "fwd", "causal", "{}", 512, 0.0534),
      row("cpu.reference", "fwd", "causal", "{}", 1024, 0.00398),
      row("cpu.flash", "fwd", "causal", "{}", 1024, 0.0611),
      row("cpu.reference", "fwd", "causal_document", docs512, 512, 0.0031),
      row("cpu.flash", "fwd", "causal_document", docs512, 512, 0.021, Status::mismatch),
      row("cpu.reference", "fwd", "causal_document", docs1024, 1024, 0.0033),
      row("cpu.flash", "fwd", "causal_document", docs1024, 1024, 0.0, Status::oom),
      row("cpu.reference", "bwd", "causal", "{}", 512, 0.0021),
      row("cpu.flash", "bwd", "causal", "{}", 512, 0.0, Status::unsupported),
      row("cpu.reference", "bwd", "causal", "{}", 1024, 0.0, Status::error),
      row("cpu.flash", "fwd", "causal", "{}", 1024, 0.081, Status::ok, "ring", 2),
      row("cpu.flash", "fwd", "causal", "{}", 1024, 0.12, Status::ok, "ring", 4),
      row("cpu.flash", "fwd", "causal", "{}", 1024, 0.095, Status::ok, "ulysses", 2),
      row("cpu.flash", "fwd", "causal", "{}", 2048, 0.15, Status::ok, "ring", 4),
  };
}

}  // namespace

TEST_CASE("pivot: a table per pass and mask, rows = seqlen, columns = backend, golden file") {
  const auto md = results_markdown("pivot fixture", sweep());
  const auto diff = attnbench::test::golden_difference(md, fixture("expected_pivot.md"));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("pivot: sampled documents do not split a mask's table by sequence length") {
  const auto md = results_markdown("t", sweep());
  CHECK(md.find("### causal_document{distribution=pile,seed=7}") != std::string::npos);
  CHECK(md.find("doc_lengths") == std::string::npos);
}

TEST_CASE("pivot: TFLOP/s keep three significant digits on CPU and none wasted on GPU") {
  CHECK(format_tflops(0.00412) == "0.00412");
  CHECK(format_tflops(1.234) == "1.23");
  CHECK(format_tflops(45.67) == "45.7");
  CHECK(format_tflops(612.4) == "612");
}

TEST_CASE("decode table: rows with a few queries against a longer cache, in GB/s") {
  auto decode_row = [](std::string backend, std::int64_t sq, double gbps, Status status) {
    ResultRow r = row(std::move(backend), "fwd", "causal", "{}", 0, 0.0137, status);
    r.seqlen_q = sq;
    r.seqlen_k = 65536;
    r.time_ms = 627.6;
    if (status == Status::ok) {
      r.extra.push_back(Metric{"bytes", 4295230464.0, "", false});
      r.extra.push_back(Metric{"gbps", gbps, "", false});
    }
    return r;
  };
  std::vector<ResultRow> rows = sweep();  // self-attention rows only: no decode table
  REQUIRE(results_markdown("t", rows).find("Decode (GB/s)") == std::string::npos);
  rows.push_back(decode_row("cpu.flash", 1, 6.84371, Status::ok));
  rows.push_back(decode_row("cpu.math", 16, 0.0, Status::oom));
  rows.push_back(decode_row("cpu.flash", 17, 7.0, Status::ok));  // 17 queries: not decode
  const std::string all = results_markdown("t", rows);
  const auto at = all.find("## Decode (GB/s)");
  REQUIRE(at != std::string::npos);
  const std::string md = all.substr(at, all.find("Legend:", at) - at);
  INFO(md);
  CHECK(md.find("| cpu.flash | causal | B1 H8/2 D64 fp32 | 1×65536 | 4.30 GB | 627.6 ms | 6.84 |") !=
        std::string::npos);
  CHECK(md.find("| cpu.math | causal | B1 H8/2 D64 fp32 | 16×65536 |  |  | OOM |") != std::string::npos);
  CHECK(md.find("17×65536") == std::string::npos);
}
