// attn_recall and approx_rel_l2 of a selected mask: one float64 pass per query row over the base's keys,
// with the case's additive bias.
#include "harness/selection_quality.hpp"

#include <cmath>
#include <utility>
#include <vector>

namespace attnbench {

SelectionQuality selection_quality(const Problem& p, const Inputs& in) {
  const auto& sh = p.shape;
  const std::int64_t B = sh.batch, Hq = sh.heads_q, Sq = sh.seqlen_q, Sk = sh.seqlen_k, D = sh.head_dim;
  const std::int64_t Hk = sh.heads_kv, Hv = sh.value_heads(), Dv = sh.value_dim();
  double recall = 0, err2 = 0, ref2 = 0;
  std::int64_t rows = 0;
#pragma omp parallel reduction(+ : recall, err2, ref2, rows)
  {
    std::vector<std::pair<std::int64_t, std::int64_t>> base_r, sel_r;
    std::vector<double> s, ob(static_cast<std::size_t>(Dv)), os(static_cast<std::size_t>(Dv));
    std::vector<std::uint8_t> in_sel;
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t r = 0; r < B * Hq * Sq; ++r) {
      const std::int64_t b = r / (Hq * Sq), h = r / Sq % Hq, q = r % Sq;
      p.mask->row_ranges(q, base_r);
      p.mask_for(b, h).row_ranges(q, sel_r);
      const float* qr = in.q.data() + ((b * Sq + q) * Hq + h) * D;
      s.clear();
      in_sel.clear();
      double m = -HUGE_VAL;
      std::size_t j = 0;
      for (const auto& [lo, hi] : base_r)
        for (std::int64_t k = lo; k < hi; ++k) {
          const float* kr = in.k.data() + ((b * Sk + k) * Hk + h / (Hq / Hk)) * D;
          double dot = 0;
          for (std::int64_t t = 0; t < D; ++t) dot += static_cast<double>(qr[t]) * kr[t];
          // The case's bias belongs to the exact attention the selection is judged against.
          s.push_back(dot * p.softmax_scale + (p.bias ? p.bias->value(h, q, k) : 0.0));
          m = std::max(m, s.back());
          while (j < sel_r.size() && sel_r[j].second <= k) ++j;
          in_sel.push_back(j < sel_r.size() && sel_r[j].first <= k ? 1 : 0);
        }
      if (s.empty()) continue;  // a row the base leaves empty: nothing to recall
      double zb = 0, zs = 0;
      std::fill(ob.begin(), ob.end(), 0.0);
      std::fill(os.begin(), os.end(), 0.0);
      std::size_t at = 0;
      for (const auto& [lo, hi] : base_r)
        for (std::int64_t k = lo; k < hi; ++k, ++at) {
          const double e = std::exp(s[at] - m);
          const float* vr = in.v.data() + ((b * Sk + k) * Hv + h / (Hq / Hv)) * Dv;
          zb += e;
          for (std::int64_t t = 0; t < Dv; ++t) ob[t] += e * vr[t];
          if (in_sel[at]) {
            zs += e;
            for (std::int64_t t = 0; t < Dv; ++t) os[t] += e * vr[t];
          }
        }
      recall += zs / zb;
      ++rows;
      for (std::int64_t t = 0; t < Dv; ++t) {
        const double base_o = ob[t] / zb, sel_o = zs > 0 ? os[t] / zs : 0.0;
        err2 += (sel_o - base_o) * (sel_o - base_o);
        ref2 += base_o * base_o;
      }
    }
  }
  SelectionQuality out;
  out.attn_recall = rows > 0 ? recall / static_cast<double>(rows) : 1.0;
  out.approx_rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0;
  return out;
}

}  // namespace attnbench
