// Masks that differ per (batch element, query head) (Problem::head_masks): the float64 reference against
// the naive loop, cpu.math and cpu.flash (every ISA) against the reference, forward and backward; the
// area, density and FLOPs of such cases; backends and CP strategies without support say why.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/flash/flash_driver.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "flash_run.hpp"
#include "kernel_cases.hpp"
#include "masks/library.hpp"
#include "naive_attention.hpp"

namespace attnbench::test {
namespace {

namespace flash = attnbench::cpu::flash;

// Causal over the first `len` queries and keys only: a padded batch element (queries >= len see nothing).
MaskPtr prefix_causal(std::int64_t s, std::int64_t len) {
  std::vector<Slice> slices;
  if (len > 0) slices.push_back({0, len, 0, len, SliceType::causal});
  return std::make_shared<const Mask>("prefix_causal", s, s,
                                      std::vector<std::pair<std::string, std::string>>{}, slices,
                                      [len](std::int64_t q, std::int64_t k) { return q < len && k <= q; });
}

// A random mask of Sq = Sk = s: a catalogue mask that needs no parameter (its defaults) or a
// padded-style prefix.
MaskPtr random_mask(std::mt19937_64& rng, std::int64_t s) {
  const auto& catalogue = mask_catalogue();
  std::uniform_int_distribution<std::size_t> pick(0, catalogue.size());
  for (;;) {
    const std::size_t i = pick(rng);
    if (i == catalogue.size())
      return prefix_causal(s, std::uniform_int_distribution<std::int64_t>(0, s)(rng));
    try {
      return build_mask({catalogue[i].name, {}}, s, s);
    } catch (const InputError&) {  // a mask with a required parameter (`slices`): draw again
    }
  }
}

struct Layout {
  std::int64_t batch, hq, hk, hv, d, dv;
  bool per_query_head;  // masks differ inside a GQA group too (dynamic selectors), not only per KV head
};

constexpr Layout kLayouts[] = {
    {2, 4, 2, 2, 16, 16, false}, {1, 8, 2, 4, 8, 24, true},   {3, 2, 1, 1, 33, 33, true},
    {2, 6, 3, 2, 16, 8, false},  {1, 4, 4, 4, 129, 64, true},
};

KernelCase head_mask_case(const Layout& l, std::mt19937_64& rng, Pass pass) {
  const std::int64_t s = std::uniform_int_distribution<std::int64_t>(17, 90)(rng);
  KernelCase c =
      make_kernel_case("causal", {}, Shape{l.batch, l.hq, l.hk, s, s, l.d, l.hv, l.dv}, pass, rng());
  Problem& p = c.problem;
  const std::int64_t group = l.hq / l.hk;
  for (std::int64_t b = 0; b < l.batch; ++b) {
    MaskPtr shared;
    for (std::int64_t h = 0; h < l.hq; ++h) {
      if (l.per_query_head || h % group == 0) shared = random_mask(rng, s);
      p.head_masks.push_back(shared);
    }
  }
  c.inputs = generate_inputs(p);
  return c;
}

// A decode request's mask: Sq new queries over the first `len` keys of an Sk-key cache, causal and
// bottom-right aligned (query i sees keys <= len - Sq + i), as a request of its own cache length.
MaskPtr cache_prefix(std::int64_t sq, std::int64_t sk, std::int64_t len) {
  std::vector<Slice> slices{{0, sq, 0, len, SliceType::causal}};
  return std::make_shared<const Mask>(
      "cache_prefix", sq, sk, std::vector<std::pair<std::string, std::string>>{}, slices,
      [=](std::int64_t q, std::int64_t k) { return k < len && k <= q + len - sq; });
}

// Decode (Sq <= 16, cpu.flash's decode path): each batch element its own cache length, each KV head
// of the first element its own mask among causal, full, streaming.
KernelCase decode_case(std::mt19937_64& rng, std::int64_t sq) {
  const std::int64_t sk = std::uniform_int_distribution<std::int64_t>(200, 700)(rng);
  const Shape shape{3, 8, 2, sq, sk, 16, 4, 24};
  KernelCase c = make_kernel_case("causal", {}, shape, Pass::fwd, rng());
  Problem& p = c.problem;
  const MaskPtr kinds[] = {build_mask({"causal", {}}, sq, sk), build_mask({"full", {}}, sq, sk),
                           build_mask({"streaming", {{"sink", "4"}, {"recent", "64"}}}, sq, sk)};
  for (std::int64_t h = 0; h < shape.heads_q; ++h) p.head_masks.push_back(kinds[(h / 4 + h) % 3]);
  for (std::int64_t b = 1; b < shape.batch; ++b) {
    const MaskPtr request = cache_prefix(sq, sk, std::uniform_int_distribution<std::int64_t>(1, sk)(rng));
    for (std::int64_t h = 0; h < shape.heads_q; ++h) p.head_masks.push_back(request);
  }
  c.inputs = generate_inputs(p);
  return c;
}

}  // namespace

TEST_CASE("reference with a mask per (batch, head) equals the naive loop", "[headmasks][reference]") {
  std::mt19937_64 rng(1630);
  for (const Layout& l : kLayouts)
    for (int rep = 0; rep < 2; ++rep) {
      const KernelCase c = head_mask_case(l, rng, Pass::fwd_bwd);
      require_outputs_close(reference_outputs(c), naive(c), c, "reference vs naive");
    }
}

TEST_CASE("a head's output under head masks is that head's output under its mask alone", "[headmasks]") {
  std::mt19937_64 rng(77);
  const KernelCase c = head_mask_case(kLayouts[1], rng, Pass::fwd);
  const Outputs all = reference_outputs(c);
  const Shape& s = c.problem.shape;
  for (std::int64_t h = 0; h < s.heads_q; ++h) {
    KernelCase one = c;
    one.problem.head_masks.clear();
    one.problem.mask = c.problem.head_masks[static_cast<std::size_t>(h)];
    const Outputs alone = reference_outputs(one);
    for (std::int64_t i = 0; i < s.seqlen_q; ++i) {
      const std::size_t at = static_cast<std::size_t>((i * s.heads_q + h) * s.value_dim());
      for (std::int64_t d = 0; d < s.value_dim(); ++d) REQUIRE(all.o[at + d] == alone.o[at + d]);
      const std::size_t l = static_cast<std::size_t>(h * s.seqlen_q + i);
      REQUIRE((all.lse[l] == alone.lse[l] || (std::isinf(all.lse[l]) && std::isinf(alone.lse[l]))));
    }
  }
}

TEST_CASE("cpu.math and cpu.flash equal the reference with a mask per (batch, head)",
          "[headmasks][cpu.flash][cpu.math]") {
  std::mt19937_64 rng(2410);
  const Pass passes[] = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  int n = 0;
  for (const Layout& l : kLayouts)
    for (int rep = 0; rep < 2; ++rep) {
      const KernelCase c = head_mask_case(l, rng, passes[n++ % 3]);
      const Outputs want = reference_outputs(c);
      for (const char* backend : {"cpu.reference", "cpu.math", "cpu.flash"}) {
        MemoryTracker mem;
        require_outputs_close(run_backend(backend, c, mem, 2), want, c, backend);
        REQUIRE(mem.live() == 0);
      }
    }
}

TEST_CASE("cpu.flash with a mask per (batch, head), every ISA variant", "[headmasks][cpu.flash]") {
  for (std::string_view isa : flash::available_isas()) {
    // The ISA's own variant and the one cpu.flash takes for head masks (AVX-512: 64-row tiles).
    const flash::KernelSet& own = flash::kernels_by_name(isa);
    for (const flash::KernelSet* kernels : {&own, &flash::head_mask_kernels(own)}) {
      std::mt19937_64 rng(31);
      for (const Layout& l : kLayouts) {
        const KernelCase c = head_mask_case(l, rng, Pass::fwd_bwd);
        require_outputs_close(run_flash(*kernels, c, 2), reference_outputs(c), c, kernels->isa);
      }
    }
  }
}

TEST_CASE("cpu.flash's decode path with per-request cache lengths and per-head masks",
          "[headmasks][decode]") {
  std::mt19937_64 rng(4096);
  for (const std::int64_t sq : {1, 5, 16}) {
    const KernelCase c = decode_case(rng, sq);
    const Outputs want = reference_outputs(c);
    require_outputs_close(naive(c), want, c, "naive");
    for (std::string_view isa : flash::available_isas()) {
      const flash::KernelSet& own = flash::kernels_by_name(isa);
      for (const flash::KernelSet* kernels : {&own, &flash::head_mask_kernels(own)})
        require_outputs_close(run_flash(*kernels, c, 3), want, c, kernels->isa);
    }
    MemoryTracker mem;
    require_outputs_close(run_backend("cpu.math", c, mem, 2), want, c, "cpu.math");
    require_outputs_close(run_backend("cpu.flash", c, mem, 2), want, c, "cpu.flash");
  }
}

TEST_CASE("area, density and FLOPs sum over the axes the masks vary along", "[headmasks]") {
  Problem p;
  p.shape = Shape{2, 4, 2, 16, 16, 8, 0, 0};
  p.mask = build_mask({"causal", {}}, 16, 16);
  const MaskPtr full = build_mask({"full", {}}, 16, 16), causal = p.mask;
  // Uniform: one head's area, 136 pairs of 256.
  CHECK(p.area() == 136);
  CHECK(p.pairs() == Approx(136.0 * 8));
  // Per KV head (both batch elements alike): heads 0-1 causal, heads 2-3 full; area sums over heads.
  for (int b = 0; b < 2; ++b)
    for (const auto& m : {causal, causal, full, full}) p.head_masks.push_back(m);
  CHECK(p.mask_head_span() == 4);
  CHECK(p.mask_batch_span() == 1);
  CHECK(p.area() == 2 * 136 + 2 * 256);
  CHECK(p.density() == Approx((2.0 * 136 + 2 * 256) / (4 * 256)));
  CHECK(pass_flops(p) == Approx(2.0 * 2 * (2 * 136 + 2 * 256) * (8 + 8)));
  // Per batch element (padded batch): b0 causal on all heads, b1 a 5-token prefix.
  const MaskPtr prefix = prefix_causal(16, 5);
  p.head_masks = {causal, causal, causal, causal, prefix, prefix, prefix, prefix};
  CHECK(p.mask_head_span() == 1);
  CHECK(p.mask_batch_span() == 2);
  CHECK(p.area() == 136 + 15);
  CHECK(p.density() == Approx((136.0 + 15) / (2 * 256)));
}

TEST_CASE("backends and CP strategies without per-head masks say why", "[headmasks]") {
  BackendInfo info = plain_backend_info("some.backend");
  Problem p = small_causal_problem();
  CHECK(check_info(info, p).ok);
  p.head_masks = {p.mask, build_mask({"full", {}}, 16, 16)};
  const Support s = check_info(info, p);
  REQUIRE_FALSE(s.ok);
  REQUIRE_FALSE(s.is_invalid());
  CHECK(s.reason ==
        "some.backend: masks that differ per batch element or head not supported (it takes one mask for the "
        "whole batch)");
  info.head_masks = true;
  CHECK(check_info(info, p).ok);
  // Every CP strategy refuses, naming itself.
  require_strategies_refuse(p, "masks that differ per batch element or head");
}

}  // namespace attnbench::test
