// Separate K and V heads (Hk != Hv) and a V head dim of its own (Dv != D, D = 129): the float64 reference
// against a hand-computed case and a naive loop, then cpu.reference, cpu.math and cpu.flash (every ISA)
// against the reference on random masks and shapes, forward and backward.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "attnbench/registry.hpp"
#include "backends/cpu/flash/flash_driver.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "flash_run.hpp"
#include "kernel_cases.hpp"
#include "naive_attention.hpp"
#include "masks/library.hpp"

namespace attnbench::test {
namespace {

namespace flash = attnbench::cpu::flash;

// GQA and MQA ratios, Hk < Hv and Hk > Hv, group sizes whose lcm is all of Hq, D = 129, Dv != D.
constexpr Heads kShapes[] = {
    {8, 1, 4, 64, 64},  // Sigma / DiffQKV ratios (Hq 32, Hk 4, Hv 16), reduced
    {4, 4, 2, 32, 48}, {6, 3, 2, 16, 24}, {4, 1, 1, 129, 129}, {2, 2, 1, 129, 64},
    {4, 2, 4, 8, 129}, {3, 1, 3, 5, 7},   {2, 1, 2, 64, 128},
};

// A random mask of the catalogue (Sq, Sk <= max_seqlen) with the given heads and dims.
KernelCase kv_case(const std::string& mask, const Heads& h, std::mt19937_64& rng, std::int64_t max_seqlen,
                   Pass pass) {
  KernelCase c = random_kernel_case(mask, rng, max_seqlen, pass);
  Problem& p = c.problem;
  p.shape = shape_of(h, p.shape.batch, p.shape.seqlen_q, p.shape.seqlen_k);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(h.d));
  c.inputs = generate_inputs(p);
  return c;
}

void require_close(const Outputs& got, const Outputs& want, const KernelCase& c, const std::string& who) {
  if (pass_has_forward(c.problem.pass))
    REQUIRE(got.o.size() == static_cast<std::size_t>(c.problem.shape.o_elems()));
  if (pass_has_backward(c.problem.pass)) {
    REQUIRE(got.dk.size() == static_cast<std::size_t>(c.problem.shape.k_elems()));
    REQUIRE(got.dv.size() == static_cast<std::size_t>(c.problem.shape.v_elems()));
  }
  require_outputs_close(got, want, c, who);
}

}  // namespace

TEST_CASE("reference with Hk != Hv and Dv != D matches a hand-computed case", "[kvdims][reference]") {
  // Hq 2, Hk 1, Hv 2, D 1, Dv 2, Sq 1, Sk 2, full, scale 1. Both query heads read the one key head;
  // head 0 reads value head 0, head 1 value head 1.
  Problem p;
  p.shape = shape_of({2, 1, 2, 1, 2}, 1, 1, 2);
  p.mask = build_mask({"full", {}}, 1, 2);
  p.softmax_scale = 1.0;
  const float q[] = {1, 0};                      // [1, 1, 2, 1]
  const float k[] = {0, 1};                      // [1, 2, 1, 1]
  const float v[] = {10, 0, 0, 1, 20, 0, 0, 3};  // [1, 2, 2, 2]: key j, value head hv, dim d
  double o[4], lse[2];
  cpu::reference_forward(p, q, k, v, o, lse);
  const double e = std::exp(1.0);
  // Head 0: scores 0 and 1 -> weights 1/(1+e), e/(1+e) over value head 0.
  CHECK(o[0] == Approx((10.0 + 20.0 * e) / (1.0 + e)));
  CHECK(o[1] == Approx(0.0).margin(1e-15));
  CHECK(lse[0] == Approx(std::log(1.0 + e)));
  // Head 1: scores 0 and 0 -> weights 1/2 over value head 1.
  CHECK(o[2] == Approx(0.0).margin(1e-15));
  CHECK(o[3] == Approx(2.0));
  CHECK(lse[1] == Approx(std::log(2.0)));
}

TEST_CASE("reference equals the naive loop with separate K/V heads and dims", "[kvdims][reference]") {
  std::mt19937_64 rng(16);
  for (const Heads& h : kShapes)
    for (const char* mask : {"causal", "full", "causal_document", "block_sparse"}) {
      const KernelCase c = kv_case(mask, h, rng, 24, Pass::fwd_bwd);
      require_close(reference_outputs(c), naive(c), c, "reference vs naive");
    }
}

TEST_CASE("cpu.reference, cpu.math and cpu.flash equal the reference with separate K/V heads and dims",
          "[kvdims][cpu.flash][cpu.math]") {
  std::mt19937_64 rng(2501);
  const Pass passes[] = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  // Three masks per shape, walking the catalogue, so every mask meets some shape (a small, fast test).
  const auto& catalogue = mask_catalogue();
  std::size_t next_mask = 0;
  int n = 0;
  for (const Heads& h : kShapes)
    for (int m = 0; m < 3; ++m) {
      const std::string mask = catalogue[next_mask++ % catalogue.size()].name;
      const KernelCase c = kv_case(mask, h, rng, 100, passes[n++ % 3]);
      const Outputs want = reference_outputs(c);
      for (const char* backend : {"cpu.reference", "cpu.math", "cpu.flash"}) {
        MemoryTracker mem;
        require_close(run_backend(backend, c, mem, 2), want, c, backend);
        REQUIRE(mem.live() == 0);
      }
    }
}

TEST_CASE("cpu.flash with separate K/V heads and dims, every ISA variant", "[kvdims][cpu.flash]") {
  for (std::string_view isa : flash::available_isas()) {
    const flash::KernelSet& kernels = flash::kernels_by_name(isa);
    std::mt19937_64 rng(129);
    for (const Heads& h : kShapes)
      for (const char* mask : {"causal", "causal_document"}) {
        const KernelCase c = kv_case(mask, h, rng, 120, Pass::fwd_bwd);
        require_close(run_flash(kernels, c, 2), reference_outputs(c), c, std::string(isa));
      }
  }
}

TEST_CASE("FLOPs and bytes count D and Dv, Hk and Hv apart", "[kvdims]") {
  Problem p;
  p.shape = shape_of({8, 1, 4, 64, 128}, 2, 16, 16);
  p.mask = build_mask({"full", {}}, 16, 16);
  p.pass = Pass::fwd;
  // fwd = 2 * area * Hq * (D + Dv) * B.
  CHECK(pass_flops(p) == Approx(2.0 * 256 * 8 * (64 + 128) * 2));
  p.pass = Pass::bwd;
  CHECK(pass_flops(p) == Approx(2.5 * 2.0 * 256 * 8 * (64 + 128) * 2));
  // K and V alike: the old 4 * area * Hq * D * B.
  p.shape = shape_of({8, 2, 2, 64, 64}, 1, 16, 16);
  p.pass = Pass::fwd;
  CHECK(pass_flops(p) == Approx(4.0 * 256 * 8 * 64));
}

TEST_CASE("backends without separate K/V support say why", "[kvdims]") {
  BackendInfo info;
  info.name = "some.backend";
  info.dtypes = {DType::fp32};
  Problem p;
  p.shape = shape_of({8, 2, 4, 64, 64}, 1, 16, 16);
  p.mask = build_mask({"causal", {}}, 16, 16);
  Support s = check_info(info, p);
  REQUIRE_FALSE(s.ok);
  REQUIRE_FALSE(s.is_invalid());
  CHECK(s.reason == "some.backend: heads_k != heads_v not supported (heads_k 2, heads_v 4)");
  p.shape = shape_of({8, 2, 2, 64, 32}, 1, 16, 16);
  s = check_info(info, p);
  REQUIRE_FALSE(s.ok);
  CHECK(s.reason == "some.backend: head_dim_v != head_dim not supported (head_dim 64, head_dim_v 32)");
  info.separate_kv_heads = info.head_dim_v = true;
  CHECK(check_info(info, p).ok);
  p.shape = shape_of({8, 2, 2, 64, 64}, 1, 16, 16);
  info.separate_kv_heads = info.head_dim_v = false;
  CHECK(check_info(info, p).ok);  // K and V alike: nothing to refuse
}

}  // namespace attnbench::test
