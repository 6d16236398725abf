// Device test: the chunk kernels of cuda.flash and cuda.math on CP chunk pairs of every mask, against
// cpu.reference's.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

// Rows [r0, r0 + n) of a [B, S, H, D] tensor as a contiguous [B, n, H, D] one.
std::vector<float> rows_of(const std::vector<float>& t, std::int64_t B, std::int64_t S, std::int64_t width,
                           std::int64_t r0, std::int64_t n) {
  std::vector<float> out(static_cast<std::size_t>(B * n * width));
  for (std::int64_t b = 0; b < B; ++b)
    std::copy_n(t.begin() + (b * S + r0) * width, n * width, out.begin() + b * n * width);
  return out;
}

// lse [B, H, S] rows [r0, r0 + n) as [B, H, n].
std::vector<float> lse_rows(const std::vector<float>& lse, std::int64_t B, std::int64_t H, std::int64_t S,
                            std::int64_t r0, std::int64_t n) {
  std::vector<float> out(static_cast<std::size_t>(B * H * n));
  for (std::int64_t bh = 0; bh < B * H; ++bh) std::copy_n(lse.begin() + bh * S + r0, n, out.begin() + bh * n);
  return out;
}

double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    den += double(want[i]) * want[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

struct MaskCase {
  std::string name;
  std::map<std::string, std::string> params;
};

}  // namespace

TEST_CASE("cuda.flash and cuda.math chunk kernels match cpu.reference's on chunk pairs of every mask",
          "[gpu][cp]") {
  const std::vector<MaskCase> masks = {
      {"full", {}},
      {"causal", {}},
      {"causal_sliding_window", {{"window", "48"}}},
      {"causal_document", {{"doc_lengths", "[40, 100, 116]"}}},
      {"share_question", {{"doc_lengths", "[64, 96, 96]"}}},
      {"prefix_lm_document", {{"doc_lengths", "[64, 96, 96]"}, {"prefix", "16"}}},
      {"global_sliding_window", {{"global", "16"}, {"window", "32"}}},
      {"var_block_sparse", {{"avg_block", "32"}, {"min_block", "16"}, {"keep", "0.3"}, {"seed", "1"}}},
  };
  // Chunk pairs as CP strategies make them: zigzag halves, a diagonal pair, off-tile origins.
  struct Rect {
    std::int64_t q0, nq, k0, nk;
  };
  const std::vector<Rect> rects = {{0, 256, 0, 256}, {192, 64, 0, 64}, {64, 64, 64, 64}, {37, 101, 150, 83}};
  const std::int64_t S = 256, B = 2, Hq = 4, Hkv = 2;
  cpu::ReferenceChunkKernel ref;
  for (const std::int64_t D : {64, 128})
    for (const auto& mc : masks) {
      Problem p;
      p.mask = build_mask(MaskSpec{mc.name, mc.params}, S, S);
      p.shape = {B, Hq, Hkv, S, S, D};
      p.dtype = DType::bf16;
      p.pass = Pass::fwd_bwd;
      p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(D));
      p.seed = 23;
      const Inputs in = generate_inputs(p);
      // The final O and LSE of every row (what the backward of a chunk pair is given).
      ChunkTask whole{p.mask.get(), 0, S, 0, S, B, Hq, Hkv, D, p.softmax_scale, DType::bf16};
      std::vector<float> o_all(in.q.size()), lse_all(static_cast<std::size_t>(B * Hq * S));
      ref.forward(whole, in.q.data(), in.k.data(), in.v.data(), o_all.data(), lse_all.data());

      for (const char* backend : {"cuda.flash", "cuda.math"}) {
        const auto* chunky = dynamic_cast<const ChunkCapable*>(Registry::instance().find_backend(backend));
        REQUIRE(chunky != nullptr);
        const ChunkKernel& gpu = chunky->chunk_kernel();
        for (const Rect& r : rects) {
          INFO(backend << " " << mc.name << " D=" << D << " rect q[" << r.q0 << "+" << r.nq << "] k[" << r.k0
                       << "+" << r.nk << "]");
          ChunkTask t = whole;
          t.q_begin = r.q0;
          t.nq = r.nq;
          t.k_begin = r.k0;
          t.nk = r.nk;
          const auto q = rows_of(in.q, B, S, Hq * D, r.q0, r.nq);
          const auto k = rows_of(in.k, B, S, Hkv * D, r.k0, r.nk);
          const auto v = rows_of(in.v, B, S, Hkv * D, r.k0, r.nk);
          const auto dout = rows_of(in.dout, B, S, Hq * D, r.q0, r.nq);
          const auto o_fin = rows_of(o_all, B, S, Hq * D, r.q0, r.nq);
          const auto lse_fin = lse_rows(lse_all, B, Hq, S, r.q0, r.nq);

          std::vector<float> o_ref(q.size()), lse_ref(lse_fin.size()), o_gpu(q.size(), 7.0f),
              lse_gpu(lse_fin.size(), 7.0f);
          ref.forward(t, q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data());
          gpu.forward(t, q.data(), k.data(), v.data(), o_gpu.data(), lse_gpu.data());
          CHECK(rel_l2(o_gpu, o_ref) <= 1e-2);
          for (std::size_t i = 0; i < lse_ref.size(); ++i) {
            if (std::isinf(lse_ref[i])) {
              REQUIRE(std::isinf(lse_gpu[i]));  // a row with no key in the chunk: -inf, o = 0
              REQUIRE(lse_gpu[i] < 0);
            } else {
              REQUIRE(std::abs(lse_gpu[i] - lse_ref[i]) <= 2e-2);
            }
          }

          std::vector<float> dq_ref(q.size()), dk_ref(k.size()), dv_ref(k.size());
          std::vector<float> dq_gpu(q.size(), 7.0f), dk_gpu(k.size(), 7.0f), dv_gpu(k.size(), 7.0f);
          ref.backward(t, q.data(), k.data(), v.data(), o_fin.data(), lse_fin.data(), dout.data(),
                       dq_ref.data(), dk_ref.data(), dv_ref.data());
          gpu.backward(t, q.data(), k.data(), v.data(), o_fin.data(), lse_fin.data(), dout.data(),
                       dq_gpu.data(), dk_gpu.data(), dv_gpu.data());
          CHECK(rel_l2(dq_gpu, dq_ref) <= 2e-2);
          CHECK(rel_l2(dk_gpu, dk_ref) <= 2e-2);
          CHECK(rel_l2(dv_gpu, dv_ref) <= 2e-2);
        }
      }
    }
}
