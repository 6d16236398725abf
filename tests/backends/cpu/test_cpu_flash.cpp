// cpu.flash against cpu.reference on every mask of the catalogue, every ISA variant; determinism; empty rows.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "attnbench/registry.hpp"
#include "backends/cpu/flash/flash_driver.hpp"
#include "harness/check.hpp"
#include "flash_run.hpp"
#include "kernel_cases.hpp"
#include "masks/library.hpp"

namespace attnbench::test {
namespace {

namespace flash = attnbench::cpu::flash;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void require_matches_reference(const Outputs& got, const KernelCase& c, const std::string& who) {
  const CheckResult r = compare_outputs(got, reference_outputs(c), c.problem.pass, 1e-5, 1e-4);
  INFO(who << ": " << describe(c.problem) << " worst " << r.worst << " rel_l2 " << r.rel_l2_err);
  REQUIRE(r.passed);
}

}  // namespace

TEST_CASE("cpu.flash equals the reference on every mask, forward and backward, every ISA variant",
          "[cpu.flash]") {
  for (std::string_view isa : flash::available_isas()) {
    const flash::KernelSet& kernels = flash::kernels_by_name(isa);
    std::mt19937_64 rng(2024);
    for (const auto& info : mask_catalogue()) {
      for (int trial = 0; trial < 2; ++trial) {
        const KernelCase c = random_kernel_case(info.name, rng, 300, Pass::fwd_bwd);
        require_matches_reference(run_flash(kernels, c, 0), c, std::string(isa));
      }
    }
  }
}

TEST_CASE("cpu.flash through the registry: fwd, bwd and fwd_bwd passes on every mask", "[cpu.flash]") {
  std::mt19937_64 rng(7);
  const Pass passes[] = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  int n = 0;
  for (const auto& info : mask_catalogue()) {
    const KernelCase c = random_kernel_case(info.name, rng, 200, passes[n++ % 3]);
    MemoryTracker mem;
    require_matches_reference(run_backend("cpu.flash", c, mem), c, "cpu.flash");
    REQUIRE(mem.live() == 0);
  }
}

TEST_CASE("cpu.flash head dims: any head dim is correct", "[cpu.flash]") {
  for (std::int64_t d : {1, 3, 8, 16, 24, 40, 72, 129, 136}) {
    const Shape s{.batch = 1, .heads_q = 2, .heads_kv = 1, .seqlen_q = 77, .seqlen_k = 77, .head_dim = d};
    const KernelCase c = make_kernel_case("causal", {}, s, Pass::fwd_bwd, 5);
    MemoryTracker mem;
    require_matches_reference(run_backend("cpu.flash", c, mem), c, "cpu.flash");
  }
}

TEST_CASE("cpu.flash is bit-identical across repeated runs and thread counts", "[cpu.flash]") {
  std::mt19937_64 rng(99);
  for (const char* mask : {"causal_document", "block_sparse", "full"}) {
    const Shape s{.batch = 2, .heads_q = 4, .heads_kv = 2, .seqlen_q = 301, .seqlen_k = 301, .head_dim = 64};
    const KernelCase c = make_kernel_case(mask, {}, s, Pass::fwd_bwd, rng());
    const flash::KernelSet& kernels = flash::select_kernels();
    const Outputs a = run_flash(kernels, c, 2);
    const Outputs b = run_flash(kernels, c, 2);
    const Outputs one = run_flash(kernels, c, 1);
    INFO(mask);
    for (const Outputs* other : {&b, &one}) {
      REQUIRE(same_bits(a.o, other->o));
      REQUIRE(same_bits(a.lse, other->lse));
      REQUIRE(same_bits(a.dq, other->dq));
      REQUIRE(same_bits(a.dk, other->dk));
      REQUIRE(same_bits(a.dv, other->dv));
    }
  }
}

TEST_CASE("cpu.flash: rows with no allowed key give O = 0, LSE = -inf and zero gradients", "[cpu.flash]") {
  // Bottom-right causal with Sq > Sk leaves the first Sq - Sk rows empty; the
  // slices leave rows 100..139 and keys 90..119 uncovered.
  struct Spec {
    const char* mask;
    std::map<std::string, std::string> params;
    std::int64_t sq, sk;
  };
  const Spec specs[] = {
      {"causal", {}, 250, 70},
      {"slices",
       {{"slices", "[{q: [0, 100], k: [0, 90], type: causal}, {q: [140, 230], k: [120, 200]}]"}},
       230,
       200},
  };
  for (const auto& spec : specs) {
    const Shape s{
        .batch = 1, .heads_q = 2, .heads_kv = 1, .seqlen_q = spec.sq, .seqlen_k = spec.sk, .head_dim = 64};
    const KernelCase c = make_kernel_case(spec.mask, spec.params, s, Pass::fwd_bwd, 3);
    MemoryTracker mem;
    const Outputs got = run_backend("cpu.flash", c, mem);
    require_matches_reference(got, c, "cpu.flash");
    const Mask& m = *c.problem.mask;
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    for (std::int64_t q = 0; q < s.seqlen_q; ++q) {
      m.row_ranges(q, ranges);
      if (!ranges.empty()) continue;
      for (std::int64_t h = 0; h < s.heads_q; ++h) {
        INFO(spec.mask << " row " << q << " head " << h);
        REQUIRE(std::isinf(got.lse[h * s.seqlen_q + q]));
        REQUIRE(got.lse[h * s.seqlen_q + q] < 0);
        for (std::int64_t d = 0; d < s.head_dim; ++d) {
          REQUIRE(got.o[(q * s.heads_q + h) * s.head_dim + d] == 0.0f);
          REQUIRE(got.dq[(q * s.heads_q + h) * s.head_dim + d] == 0.0f);
        }
      }
    }
    // Keys no query may see get exactly zero dK and dV.
    const auto dense = m.dense();
    for (std::int64_t k = 0; k < s.seqlen_k; ++k) {
      bool seen = false;
      for (std::int64_t q = 0; q < s.seqlen_q && !seen; ++q) seen = dense[q * s.seqlen_k + k] != 0;
      if (seen) continue;
      for (std::int64_t d = 0; d < s.head_dim; ++d) {
        INFO(spec.mask << " key " << k);
        REQUIRE(got.dk[k * s.head_dim + d] == 0.0f);
        REQUIRE(got.dv[k * s.head_dim + d] == 0.0f);
      }
    }
  }
}

TEST_CASE("cpu.flash describes itself honestly", "[cpu.flash]") {
  Backend* b = Registry::instance().find_backend("cpu.flash");
  REQUIRE(b != nullptr);
  const BackendInfo info = b->info();
  REQUIRE(info.dtypes == std::vector<DType>{DType::fp32});
  REQUIRE(info.head_dim_multiple == 1);  // any head dim (Routing Transformer's 129 included)
  REQUIRE(info.separate_kv_heads);
  REQUIRE(info.head_dim_v);
  REQUIRE(info.masks.empty());  // every mask
  REQUIRE(dynamic_cast<ChunkCapable*>(b) != nullptr);
  Shape s;
  s.seqlen_q = s.seqlen_k = 64;
  s.head_dim = 129;
  KernelCase c = make_kernel_case("causal", {}, s, Pass::fwd, 1);
  REQUIRE(b->supports(c.problem).ok);
  c.problem.shape.head_dim = 64;
  c.problem.dtype = DType::bf16;
  REQUIRE_FALSE(b->supports(c.problem).ok);
}

}  // namespace attnbench::test
