// The naive float64 attention loop of the CPU kernel tests, written apart from cpu.reference (see
// naive_attention.hpp).
#include "naive_attention.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

namespace attnbench::test {

// The naive loop, written apart from cpu.reference: per (batch, query head) the whole P matrix from the
// dense mask of that (batch, head), then O = P V, dS = P (dP - rowsum(P dP)), dQ = scale dS K, dK += scale
// dS^T Q, dV += P^T dO.
// The additive bias from its definition (DESIGN.md "Additive bias"), not through Bias::value: ALiBi's
// -slope_h * |q' - k| and relpos's table at the clipped distance k - q', q' = q + Sk - Sq.
static double naive_bias(const Problem& p, std::int64_t h, std::int64_t q, std::int64_t k) {
  if (!p.bias) return 0.0;
  const std::int64_t qpos = q + p.shape.seqlen_k - p.shape.seqlen_q;
  if (p.bias->kind() == Bias::Kind::alibi)
    return -p.bias->slopes()[h] * std::abs(static_cast<double>(qpos - k));
  const std::int64_t M = p.bias->max_distance();
  const std::int64_t d = std::max(-M, std::min(M, k - qpos));
  return p.bias->table()[h * (2 * M + 1) + d + M];
}

Outputs naive(const KernelCase& c) {
  const Problem& p = c.problem;
  const Shape& s = p.shape;
  const std::int64_t Sq = s.seqlen_q, Sk = s.seqlen_k, Hq = s.heads_q, Hk = s.heads_kv, Hv = s.value_heads();
  const std::int64_t D = s.head_dim, Dv = s.value_dim();
  // Dense form of each distinct (batch, head) mask.
  std::map<const Mask*, std::vector<std::uint8_t>> dense_of;
  const auto& in = c.inputs;
  std::vector<double> o(s.o_elems()), lse(s.lse_elems()), dq(s.q_elems()), dk(s.k_elems()), dv(s.v_elems());
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < Hq; ++h) {
      const Mask& mask = p.mask_for(b, h);
      auto [at, added] = dense_of.try_emplace(&mask);
      if (added) at->second = mask.dense();
      const std::vector<std::uint8_t>& dense = at->second;
      const std::int64_t hk = h * Hk / Hq, hv = h * Hv / Hq;  // DESIGN.md: key head h·Hk/Hq
      auto Q = [&](std::int64_t i, std::int64_t d) { return double(in.q[((b * Sq + i) * Hq + h) * D + d]); };
      auto K = [&](std::int64_t j, std::int64_t d) { return double(in.k[((b * Sk + j) * Hk + hk) * D + d]); };
      auto Vv = [&](std::int64_t j, std::int64_t d) {
        return double(in.v[((b * Sk + j) * Hv + hv) * Dv + d]);
      };
      auto dO = [&](std::int64_t i, std::int64_t d) {
        return in.dout.empty() ? 0.0 : double(in.dout[((b * Sq + i) * Hq + h) * Dv + d]);
      };
      std::vector<double> P(Sq * Sk, 0.0);
      for (std::int64_t i = 0; i < Sq; ++i) {
        double m = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < Sk; ++j) {
          if (!dense[i * Sk + j]) continue;
          double x = 0;
          for (std::int64_t d = 0; d < D; ++d) x += Q(i, d) * K(j, d);
          P[i * Sk + j] = x * p.softmax_scale + naive_bias(p, h, i, j);
          m = std::max(m, P[i * Sk + j]);
        }
        double sum = 0;
        for (std::int64_t j = 0; j < Sk; ++j) {
          P[i * Sk + j] = dense[i * Sk + j] ? std::exp(P[i * Sk + j] - m) : 0.0;
          sum += P[i * Sk + j];
        }
        lse[(b * Hq + h) * Sq + i] = sum > 0 ? m + std::log(sum) : -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < Sk; ++j) P[i * Sk + j] = sum > 0 ? P[i * Sk + j] / sum : 0.0;
        for (std::int64_t d = 0; d < Dv; ++d) {
          double acc = 0;
          for (std::int64_t j = 0; j < Sk; ++j) acc += P[i * Sk + j] * Vv(j, d);
          o[((b * Sq + i) * Hq + h) * Dv + d] = acc;
        }
      }
      if (!pass_has_backward(p.pass)) continue;
      for (std::int64_t i = 0; i < Sq; ++i) {
        std::vector<double> dP(Sk, 0.0);
        double dot = 0;
        for (std::int64_t j = 0; j < Sk; ++j) {
          for (std::int64_t d = 0; d < Dv; ++d) dP[j] += dO(i, d) * Vv(j, d);
          dot += P[i * Sk + j] * dP[j];
        }
        for (std::int64_t j = 0; j < Sk; ++j) {
          const double pij = P[i * Sk + j], ds = pij * (dP[j] - dot) * p.softmax_scale;
          for (std::int64_t d = 0; d < D; ++d) {
            dq[((b * Sq + i) * Hq + h) * D + d] += ds * K(j, d);
            dk[((b * Sk + j) * Hk + hk) * D + d] += ds * Q(i, d);
          }
          for (std::int64_t d = 0; d < Dv; ++d) dv[((b * Sk + j) * Hv + hv) * Dv + d] += pij * dO(i, d);
        }
      }
    }
  Outputs out;
  out.o.assign(o.begin(), o.end());
  out.lse.assign(lse.begin(), lse.end());
  if (pass_has_backward(p.pass)) {
    out.dq.assign(dq.begin(), dq.end());
    out.dk.assign(dk.begin(), dk.end());
    out.dv.assign(dv.begin(), dv.end());
  }
  return out;
}

}  // namespace attnbench::test
