// Decode as `fwd` with a few queries against a long KV cache: the CPU backends against the float64
// reference through the pipeline, the rows' `bytes` and `gbps` worked out by hand, and cpu.flash's
// decode path (every ISA) on masks, head layouts, dims, dtypes and thread counts.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "backends/cpu/flash/flash_driver.hpp"
#include "flash_run.hpp"
#include "harness/inputs.hpp"
#include "harness/scenario.hpp"
#include "harness/sweep.hpp"
#include "kernel_cases.hpp"

using namespace attnbench;

namespace {

// 3 backends x 3 masks x Sq {1, 5, 16} over a cache of 1000 keys (not a multiple of any tile),
// GQA 4 query heads per KV head, as decode runs (Hq 32, Hkv 8) but small.
const char* decode = R"(
name: decode
backends: [cpu.flash, cpu.math, cpu.reference]
masks: [causal, full, {name: streaming, sink: 4, recent: 64}]
seqlens: [1, 5, 16]
seqlens_k: [1000]
shape: {batch: 2, heads_q: 8, heads_kv: 2, head_dim: 64}
passes: [fwd]
timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}
)";

double extra(const ResultRow& r, const std::string& name) {
  const Metric* m = r.find_extra(name);
  REQUIRE(m != nullptr);
  return m->value;
}

}  // namespace

TEST_CASE("decode steps (Sq 1-16 over a 1000-key cache) equal the float64 reference on every CPU backend",
          "[decode]") {
  const Scenario s = parse_scenario(decode, "decode.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  const auto rows = run_cases(s, expand(s), opt);
  REQUIRE(rows.size() == 27);
  std::set<std::string> backends;
  for (const ResultRow& r : rows) {
    INFO(r.backend << " " << r.mask << " Sq=" << r.seqlen_q << " Sk=" << r.seqlen_k << ": " << r.message);
    REQUIRE(r.status == Status::ok);
    REQUIRE(r.seqlen_k == 1000);
    REQUIRE(r.rel_l2_err < 1e-5);  // checked (NaN would fail) against the float64 reference
    REQUIRE(r.time_ms > 0);
    // gbps is the row's own bytes over its median time (one iteration here).
    REQUIRE(extra(r, "gbps") == Approx(extra(r, "bytes") / (r.time_ms * 1e-3) / 1e9).epsilon(1e-9));
    backends.insert(r.backend);
    // cpu.flash says which forward ran: every Sq here is small enough for the decode path.
    if (r.backend == "cpu.flash") {
      const Metric* path = r.find_extra("cpu_forward");
      REQUIRE(path != nullptr);
      REQUIRE(path->text == "decode");
    }
  }
  REQUIRE(backends.size() == 3);
}

TEST_CASE("decode bytes by hand: Q, the visible K and V, O and LSE in fp32", "[decode]") {
  const Scenario s = parse_scenario(decode, "decode.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 1e9;
  const auto rows = run_cases(s, expand(s), opt);
  int seen = 0;
  for (const ResultRow& r : rows) {
    if (r.backend != "cpu.flash" || r.seqlen_q != 1) continue;
    // B 2, Hq 8, Hkv 2, D 64, one query: Q and O are 2*1*8*64 = 1024 floats each, LSE 2*8 = 16.
    // causal and full read every key: K and V are 2*1000*2*64 = 256000 floats each.
    // streaming (sink 4, recent 64) at the end of the cache reads 4 + 64 keys: 2*68*2*64 = 17408.
    const double keys_elems = r.mask == "streaming" ? 17408 : 256000;
    const double expected = 4.0 * (1024 + 2 * keys_elems + 1024 + 16);
    INFO(r.mask);
    REQUIRE(extra(r, "bytes") == expected);
    ++seen;
  }
  REQUIRE(seen == 3);
  // The numbers above, written out: 2056256 bytes for causal and full, 147520 for streaming.
  REQUIRE(4.0 * (1024 + 2 * 256000 + 1024 + 16) == 2056256);
  REQUIRE(4.0 * (1024 + 2 * 17408 + 1024 + 16) == 147520);
}

namespace {

namespace flash = attnbench::cpu::flash;
using test::KernelCase;

// GQA 4 (Llama-3 reduced), Hk != Hv both ways, odd dims (7, 129) and Dv != D, MQA.
constexpr test::Heads kHeads[] = {
    {8, 2, 2, 64, 64}, {6, 3, 2, 7, 129}, {4, 1, 4, 129, 64}, {4, 4, 2, 32, 48}, {2, 1, 1, 16, 16},
};

// The masks a decode step meets, as (name, params) for a cache of sk keys and sq new queries.
// "document" is the last document of a packed cache, with the first query row seeing no key
// (when sq > 1), written as slices because the document masks need Sq == Sk.
std::vector<std::pair<std::string, std::map<std::string, std::string>>> decode_masks(std::int64_t sq,
                                                                                     std::int64_t sk) {
  const std::int64_t doc0 = sk * 2 / 3, first = sq > 1 ? 1 : 0;
  return {
      {"causal", {}},
      {"full", {}},
      {"streaming", {{"sink", "4"}, {"recent", "100"}}},
      {"sliding_window", {{"window", "130"}}},
      {"causal_sliding_window", {{"window", "200"}}},
      {"slices",
       {{"slices", fmt::format("[{{q: [{}, {}], k: [{}, {}], type: causal}}]", first, sq, doc0, sk)}}},
  };
}

KernelCase decode_case(const std::string& mask, const std::map<std::string, std::string>& params,
                       const test::Heads& h, std::int64_t batch, std::int64_t sq, std::int64_t sk,
                       DType dtype, std::uint64_t seed) {
  KernelCase c = test::make_kernel_case(mask, params, test::shape_of(h, batch, sq, sk), Pass::fwd, seed);
  if (dtype != DType::fp32) {  // inputs rounded to the dtype, computed in fp32 (as the pipeline does)
    c.problem.dtype = dtype;
    c.inputs = generate_inputs(c.problem);
  }
  return c;
}

// The decode path on every ISA against the float64 reference: O to fp32 accuracy, LSE -inf exactly
// where a row sees no key.
void require_decode_close(const KernelCase& c, int threads, const std::string& isa) {
  REQUIRE(flash::use_decode_path(flash::geometry_of(c.problem)));
  const Outputs want = test::reference_outputs(c);
  const Outputs got = test::run_flash(flash::kernels_by_name(isa), c, threads);
  INFO(to_string(c.problem.dtype));  // decode cases are forward: the pass compared is fwd
  test::require_outputs_close(got, want, c, isa + " threads=" + std::to_string(threads));
}

}  // namespace

TEST_CASE("cpu.flash takes the decode path for Sq <= 16 only", "[decode][cpu.flash]") {
  flash::Geometry g{};
  g.batch = 1;
  g.heads_q = g.heads_kv = 1;
  g.head_dim = 64;
  g.seqlen_k = 4096;
  for (std::int64_t sq : {1, 3, 16}) {
    g.seqlen_q = sq;
    CHECK(flash::use_decode_path(g));
  }
  g.seqlen_q = 17;
  CHECK_FALSE(flash::use_decode_path(g));
}

TEST_CASE("cpu.flash decode path equals the float64 reference: masks, heads, dims, every ISA",
          "[decode][cpu.flash]") {
  // Sk 1000 (16 key tiles, the last one short: split-K over up to 4 chunks) and 37 (one short tile).
  std::uint64_t seed = 1;
  int round = 0;
  for (std::string_view isa : flash::available_isas())
    for (std::int64_t sk : {1000, 37})
      for (std::int64_t sq : {1, 3, 16})
        for (const auto& [mask, params] : decode_masks(sq, sk))
          for (int pick = 0; pick < 2; ++pick) {  // two head layouts per mask, every layout over the loop
            const test::Heads& h = kHeads[(round + pick * 2) % std::size(kHeads)];
            // B 1 with 2-3 threads splits the key axis; B 3 with 1 thread keeps one chunk per element.
            const std::int64_t batch = round % 2 == 0 ? 1 : 3;
            const int threads = batch == 1 ? 2 + round % 4 / 2 : 1;
            ++round;
            require_decode_close(decode_case(mask, params, h, batch, sq, sk, DType::fp32, seed++), threads,
                                 std::string(isa));
          }
}

TEST_CASE("cpu.flash decode path: a document mask with Sq == Sk, and bf16/fp16 inputs",
          "[decode][cpu.flash]") {
  const test::Heads gqa{8, 2, 2, 64, 64}, odd{6, 3, 2, 7, 129};
  for (std::string_view isa : flash::available_isas()) {
    // Packed documents of 5, 7 and 4 tokens, all 16 of them queries: Sq 16 still decodes.
    require_decode_close(
        decode_case("causal_document", {{"doc_lengths", "[5, 7, 4]"}}, gqa, 2, 16, 16, DType::fp32, 7), 2,
        std::string(isa));
    for (DType dt : {DType::bf16, DType::fp16})
      for (std::int64_t sq : {1, 16}) {
        require_decode_close(decode_case("causal", {}, gqa, 2, sq, 1000, dt, 11), 2, std::string(isa));
        require_decode_close(
            decode_case("streaming", {{"sink", "4"}, {"recent", "100"}}, odd, 1, sq, 1000, dt, 12), 3,
            std::string(isa));
      }
  }
}

TEST_CASE("cpu.flash decode path reads no key tile the mask leaves empty", "[decode][cpu.flash]") {
  // Streaming (sink 4, recent 100) over 1000 keys at Sq 1 sees keys [0, 4) and [900, 1000): key
  // tiles 1..13 (keys 64..895) are empty. NaN there would reach O if any of them were read.
  const KernelCase clean = decode_case("streaming", {{"sink", "4"}, {"recent", "100"}},
                                       test::Heads{8, 2, 2, 64, 64}, 2, 1, 1000, DType::fp32, 5);
  const Outputs want = test::reference_outputs(clean);
  KernelCase poisoned = clean;
  const auto& s = poisoned.problem.shape;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t j = 64; j < 896; ++j) {
      for (std::int64_t e = 0; e < s.heads_kv * s.head_dim; ++e)
        poisoned.inputs.k[(b * s.seqlen_k + j) * s.heads_kv * s.head_dim + e] = nan;
      for (std::int64_t e = 0; e < s.value_heads() * s.value_dim(); ++e)
        poisoned.inputs.v[(b * s.seqlen_k + j) * s.value_heads() * s.value_dim() + e] = nan;
    }
  for (std::string_view isa : flash::available_isas())
    for (int threads : {1, 2, 3}) {
      const Outputs got = test::run_flash(flash::kernels_by_name(isa), poisoned, threads);
      test::require_outputs_close(got, want, poisoned,
                                  std::string(isa) + " threads=" + std::to_string(threads));
    }
}
