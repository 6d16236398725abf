// Batches of their own lengths (DESIGN.md "Batches of their own lengths"): padded rows are empty (O = 0,
// LSE = -inf, padded keys get dK = dV = 0), cpu.math and cpu.flash equal the reference on padded batches
// forward and backward, the packed layout computes exactly what the padded one computes on its valid rows,
// and a backend without per-sequence masks says unsupported.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "harness/inputs.hpp"
#include "harness/scenario_batching.hpp"
#include "kernel_cases.hpp"

namespace attnbench::test {
namespace {

struct Batch {
  std::vector<std::int64_t> lengths;
  std::string base;
  std::int64_t hq, hk, d;
};

KernelCase padded_case(const Batch& b, Pass pass, std::uint64_t seed) {
  BatchingSpec spec{b.lengths, "lengths", {"padded"}};
  const BatchLayout l = batch_layout(spec, "padded", b.base);
  KernelCase c;
  Problem& p = c.problem;
  p.shape = Shape{l.batch, b.hq, b.hk, l.seqlen, l.seqlen, b.d, 0, 0};
  p.pass = pass;
  p.mask = l.mask;
  p.head_masks = head_masks_of(l, b.hq);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(b.d));
  p.seed = seed;
  c.inputs = generate_inputs(p);
  return c;
}

// The same sequences packed, their q, k, v and dO copied from the padded case's valid rows.
KernelCase packed_from(const KernelCase& padded, const Batch& b) {
  BatchingSpec spec{b.lengths, "lengths", {"packed"}};
  const BatchLayout l = batch_layout(spec, "packed", b.base);
  const Shape& ps = padded.problem.shape;
  KernelCase c;
  Problem& p = c.problem;
  p = padded.problem;
  p.head_masks.clear();
  p.mask = l.mask;
  p.shape = Shape{1, b.hq, b.hk, l.seqlen, l.seqlen, b.d, 0, 0};
  const auto copy_rows = [&](const std::vector<float>& from, std::vector<float>& to, std::int64_t row) {
    to.clear();
    for (std::size_t i = 0; i < b.lengths.size(); ++i) {
      const auto begin = from.begin() + static_cast<std::ptrdiff_t>(i * ps.seqlen_q * row);
      to.insert(to.end(), begin, begin + b.lengths[i] * row);
    }
  };
  copy_rows(padded.inputs.q, c.inputs.q, b.hq * b.d);
  copy_rows(padded.inputs.k, c.inputs.k, b.hk * b.d);
  copy_rows(padded.inputs.v, c.inputs.v, b.hk * b.d);
  if (!padded.inputs.dout.empty()) copy_rows(padded.inputs.dout, c.inputs.dout, b.hq * b.d);
  return c;
}

const Batch kBatches[] = {
    {{37, 5, 64, 1, 20}, "causal", 4, 2, 16},
    {{50, 50, 9}, "full", 2, 2, 8},
    {{3, 70, 33, 70, 12, 8, 65, 40}, "causal", 2, 1, 33},
};

}  // namespace

TEST_CASE("padded rows are empty: O = 0, LSE = -inf, and padded keys get dK = dV = 0", "[batching]") {
  for (const Batch& b : kBatches) {
    const KernelCase c = padded_case(b, Pass::fwd_bwd, 5);
    const Shape& s = c.problem.shape;
    for (const char* backend : {"cpu.reference", "cpu.math", "cpu.flash"}) {
      MemoryTracker mem;
      const Outputs out = run_backend(backend, c, mem, 2);
      INFO(backend << ": " << describe(c.problem));
      int padded_rows = 0;
      for (std::int64_t bi = 0; bi < s.batch; ++bi) {
        const std::int64_t len = b.lengths[static_cast<std::size_t>(bi)];
        for (std::int64_t q = len; q < s.seqlen_q; ++q, ++padded_rows)
          for (std::int64_t h = 0; h < s.heads_q; ++h) {
            const auto row = static_cast<std::size_t>(((bi * s.seqlen_q + q) * s.heads_q + h) * s.head_dim);
            for (std::int64_t d = 0; d < s.head_dim; ++d) REQUIRE(out.o[row + d] == 0.0f);
            const float lse = out.lse[static_cast<std::size_t>((bi * s.heads_q + h) * s.seqlen_q + q)];
            REQUIRE((std::isinf(lse) && lse < 0));
          }
        for (std::int64_t k = len; k < s.seqlen_k; ++k)
          for (std::int64_t i = 0; i < s.heads_kv * s.head_dim; ++i) {
            const auto at = static_cast<std::size_t>((bi * s.seqlen_k + k) * s.heads_kv * s.head_dim + i);
            REQUIRE(out.dk[at] == 0.0f);
            REQUIRE(out.dv[at] == 0.0f);
          }
      }
      CHECK(padded_rows > 0);
    }
  }
}

TEST_CASE("cpu.math and cpu.flash equal the reference on padded batches, forward and backward",
          "[batching][cpu.flash][cpu.math]") {
  std::uint64_t seed = 11;
  for (const Batch& b : kBatches)
    for (Pass pass : {Pass::fwd, Pass::bwd, Pass::fwd_bwd}) {
      const KernelCase c = padded_case(b, pass, seed++);
      const Outputs want = reference_outputs(c);
      for (const char* backend : {"cpu.math", "cpu.flash"}) {
        MemoryTracker mem;
        require_outputs_close(run_backend(backend, c, mem, 2), want, c, backend);
        REQUIRE(mem.live() == 0);
      }
    }
}

TEST_CASE("packed outputs equal the padded outputs on the valid rows", "[batching]") {
  for (const Batch& b : kBatches) {
    const KernelCase padded = padded_case(b, Pass::fwd_bwd, 99);
    const KernelCase packed = packed_from(padded, b);
    const Outputs want = reference_outputs(padded);
    for (const char* backend : {"cpu.reference", "cpu.flash"}) {
      MemoryTracker mem;
      const Outputs got = run_backend(backend, packed, mem, 2);
      const Shape& s = padded.problem.shape;
      INFO(backend << ": " << describe(padded.problem));
      std::int64_t start = 0;  // the sequence's first token in the packed layout
      double worst = 0;
      for (std::size_t i = 0; i < b.lengths.size(); ++i) {
        const auto bi = static_cast<std::int64_t>(i);
        for (std::int64_t t = 0; t < b.lengths[i]; ++t) {
          const std::int64_t pad = bi * s.seqlen_q + t, pack = start + t;
          for (std::int64_t j = 0; j < s.heads_q * s.head_dim; ++j) {
            const auto a = static_cast<std::size_t>(pad * s.heads_q * s.head_dim + j);
            const auto c = static_cast<std::size_t>(pack * s.heads_q * s.head_dim + j);
            worst = std::max(
                {worst, std::abs(double(want.o[a]) - got.o[c]), std::abs(double(want.dq[a]) - got.dq[c])});
          }
          for (std::int64_t j = 0; j < s.heads_kv * s.head_dim; ++j) {
            const auto a = static_cast<std::size_t>(pad * s.heads_kv * s.head_dim + j);
            const auto c = static_cast<std::size_t>(pack * s.heads_kv * s.head_dim + j);
            worst = std::max(
                {worst, std::abs(double(want.dk[a]) - got.dk[c]), std::abs(double(want.dv[a]) - got.dv[c])});
          }
          for (std::int64_t h = 0; h < s.heads_q; ++h)
            worst = std::max(
                worst,
                std::abs(double(want.lse[static_cast<std::size_t>((bi * s.heads_q + h) * s.seqlen_q + t)]) -
                         got.lse[static_cast<std::size_t>(h * packed.problem.shape.seqlen_q + pack)]));
        }
        start += b.lengths[i];
      }
      CHECK(worst < 1e-4);
    }
  }
}

TEST_CASE("a backend without per-sequence masks says unsupported on a padded batch", "[batching]") {
  const KernelCase c = padded_case(kBatches[0], Pass::fwd, 1);
  BackendInfo info;
  info.name = "one.mask.backend";
  info.dtypes = {DType::fp32};
  const Support s = check_info(info, c.problem);
  REQUIRE_FALSE(s.ok);
  REQUIRE_FALSE(s.is_invalid());
  CHECK(s.reason.find("masks that differ per batch element") != std::string::npos);
  // The packed layout of the same batch is one mask: the same backend takes it.
  const KernelCase packed = packed_from(c, kBatches[0]);
  CHECK(check_info(info, packed.problem).ok);
  // Every registered backend either runs the padded batch or says why not.
  for (const auto& name : Registry::instance().backend_names()) {
    const Support r = Registry::instance().find_backend(name)->supports(c.problem);
    INFO(name << ": " << r.reason);
    CHECK((r.ok || !r.reason.empty()));
  }
}

}  // namespace attnbench::test
