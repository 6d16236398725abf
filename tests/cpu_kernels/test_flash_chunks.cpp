// cpu.flash's chunk kernel: a sub-rectangle under the global mask equals the reference chunk, and chunks
// merge to the whole.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "attnbench/registry.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "harness/check.hpp"
#include "kernel_cases.hpp"
#include "masks/library.hpp"

namespace attnbench::test {
namespace {

using i64 = std::int64_t;

// Rows [begin, begin + n) of a [B, S, H, D] tensor as a contiguous [B, n, H, D] one.
std::vector<float> rows_of(const std::vector<float>& t, i64 B, i64 S, i64 HD, i64 begin, i64 n) {
  std::vector<float> out(static_cast<std::size_t>(B * n * HD));
  for (i64 b = 0; b < B; ++b)
    for (i64 i = 0; i < n; ++i)
      for (i64 x = 0; x < HD; ++x) out[(b * n + i) * HD + x] = t[(b * S + begin + i) * HD + x];
  return out;
}

// Columns [begin, begin + n) of a [B, H, S] LSE as [B, H, n].
std::vector<float> lse_of(const std::vector<float>& t, i64 BH, i64 S, i64 begin, i64 n) {
  std::vector<float> out(static_cast<std::size_t>(BH * n));
  for (i64 r = 0; r < BH; ++r)
    for (i64 i = 0; i < n; ++i) out[r * n + i] = t[r * S + begin + i];
  return out;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  Outputs x, y;
  x.dq = a;
  y.dq = b;
  return compare_outputs(x, y, Pass::bwd, 0, 1).rel_l2_err;
}

}  // namespace

TEST_CASE("cpu.flash chunk kernel equals the reference chunk kernel and merges to the full result",
          "[cpu.flash][chunk]") {
  Backend* backend = Registry::instance().find_backend("cpu.flash");
  REQUIRE(backend != nullptr);
  auto* capable = dynamic_cast<ChunkCapable*>(backend);
  REQUIRE(capable != nullptr);
  const ChunkKernel& flash = capable->chunk_kernel();
  const cpu::ReferenceChunkKernel reference;
  std::mt19937_64 rng(5150);

  for (const auto& info : mask_catalogue()) {
    const KernelCase c = random_kernel_case(info.name, rng, 260, Pass::fwd_bwd);
    const Problem& p = c.problem;
    const auto& s = p.shape;
    const i64 B = s.batch, Sq = s.seqlen_q, Sk = s.seqlen_k, D = s.head_dim;
    const i64 qHD = s.heads_q * D, kHD = s.heads_kv * D;
    const Outputs full = reference_outputs(c);
    // Two query chunks and two key chunks with odd cut points (a chunk may be empty of work).
    const i64 qcut = std::uniform_int_distribution<i64>(0, Sq)(rng);
    const i64 kcut = std::uniform_int_distribution<i64>(0, Sk)(rng);
    const std::pair<i64, i64> qchunks[] = {{0, qcut}, {qcut, Sq - qcut}};
    const std::pair<i64, i64> kchunks[] = {{0, kcut}, {kcut, Sk - kcut}};

    std::vector<float> dq_sum(full.dq.size(), 0.0f), dk_sum(full.dk.size(), 0.0f),
        dv_sum(full.dv.size(), 0.0f);
    for (auto [q0, nq] : qchunks) {
      if (nq == 0) continue;
      const auto q = rows_of(c.inputs.q, B, Sq, qHD, q0, nq);
      const auto dout = rows_of(c.inputs.dout, B, Sq, qHD, q0, nq);
      const auto o_final = rows_of(full.o, B, Sq, qHD, q0, nq);
      const auto lse_final = lse_of(full.lse, B * s.heads_q, Sq, q0, nq);
      // Merge of the key chunks' partial results by LSE (DESIGN.md).
      std::vector<float> o_merged(o_final.size(), 0.0f);
      std::vector<float> lse_merged(lse_final.size(), -std::numeric_limits<float>::infinity());
      for (auto [k0, nk] : kchunks) {
        if (nk == 0) continue;
        ChunkTask t;
        t.mask = p.mask.get();
        t.q_begin = q0;
        t.nq = nq;
        t.k_begin = k0;
        t.nk = nk;
        t.batch = B;
        t.heads_q = s.heads_q;
        t.heads_kv = s.heads_kv;
        t.head_dim = D;
        t.softmax_scale = p.softmax_scale;
        const auto k = rows_of(c.inputs.k, B, Sk, kHD, k0, nk);
        const auto v = rows_of(c.inputs.v, B, Sk, kHD, k0, nk);
        Outputs got, want;
        for (Outputs* out : {&got, &want}) {
          out->o.resize(q.size());
          out->lse.resize(lse_final.size());
          out->dq.resize(q.size());
          out->dk.resize(k.size());
          out->dv.resize(v.size());
        }
        flash.forward(t, q.data(), k.data(), v.data(), got.o.data(), got.lse.data());
        reference.forward(t, q.data(), k.data(), v.data(), want.o.data(), want.lse.data());
        flash.backward(t, q.data(), k.data(), v.data(), o_final.data(), lse_final.data(), dout.data(),
                       got.dq.data(), got.dk.data(), got.dv.data());
        reference.backward(t, q.data(), k.data(), v.data(), o_final.data(), lse_final.data(), dout.data(),
                           want.dq.data(), want.dk.data(), want.dv.data());
        const CheckResult r = compare_outputs(got, want, Pass::fwd_bwd, 1e-5, 1e-4);
        INFO(describe(p) << " chunk q[" << q0 << "+" << nq << ") k[" << k0 << "+" << nk << ") worst "
                         << r.worst << " " << r.rel_l2_err);
        REQUIRE(r.passed);

        for (std::size_t row = 0; row < lse_merged.size(); ++row) {
          const float a = lse_merged[row], b = got.lse[row];
          if (std::isinf(b)) continue;
          const float m = std::isinf(a) ? b : std::max(a, b);
          const float l = m + std::log(std::exp(a - m) + std::exp(b - m));
          const float wa = std::isinf(a) ? 0.0f : std::exp(a - l), wb = std::exp(b - l);
          const i64 bi = row / (s.heads_q * nq), h = (row / nq) % s.heads_q, i = row % nq;
          for (i64 d = 0; d < D; ++d) {
            float& x = o_merged[((bi * nq + i) * s.heads_q + h) * D + d];
            x = wa * x + wb * got.o[((bi * nq + i) * s.heads_q + h) * D + d];
          }
          lse_merged[row] = l;
        }
        // Gradients of the chunk pairs add up to the full gradients.
        for (i64 b = 0; b < B; ++b) {
          for (i64 i = 0; i < nq * qHD; ++i) dq_sum[(b * Sq + q0) * qHD + i] += got.dq[b * nq * qHD + i];
          for (i64 j = 0; j < nk * kHD; ++j) {
            dk_sum[(b * Sk + k0) * kHD + j] += got.dk[b * nk * kHD + j];
            dv_sum[(b * Sk + k0) * kHD + j] += got.dv[b * nk * kHD + j];
          }
        }
      }
      Outputs merged, want;
      merged.o = o_merged;
      merged.lse = lse_merged;
      want.o = o_final;
      want.lse = lse_final;
      const CheckResult r = compare_outputs(merged, want, Pass::fwd, 1e-5, 1e-4);
      INFO(describe(p) << " merged rows [" << q0 << "+" << nq << ") worst " << r.worst << " "
                       << r.rel_l2_err);
      REQUIRE(r.passed);
    }
    INFO(describe(p) << " cuts q " << qcut << " k " << kcut);
    REQUIRE(rel_l2(dq_sum, full.dq) <= 1e-4);
    REQUIRE(rel_l2(dk_sum, full.dk) <= 1e-4);
    REQUIRE(rel_l2(dv_sum, full.dv) <= 1e-4);
  }
}

}  // namespace attnbench::test
