// Decode as `fwd` with a few queries against a long KV cache: the CPU backends against the float64
// reference through the pipeline, and the rows' `bytes` and `gbps` worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include "harness/scenario.hpp"
#include "harness/sweep.hpp"

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
