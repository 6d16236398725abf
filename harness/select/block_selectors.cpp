// Selectors that score pooled blocks: topk_blocks (SeerAttention, MInference, Landmark) and token_keep.
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "harness/select/common.hpp"

namespace attnbench::select {

namespace {

// Mean of rows [r0, r1) of a [S, stride] tensor's D leading columns.
std::vector<double> pool_avg(const float* base, std::int64_t stride, std::int64_t d, std::int64_t r0,
                             std::int64_t r1) {
  std::vector<double> m(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t r = r0; r < r1; ++r)
    for (std::int64_t i = 0; i < d; ++i) m[i] += base[r * stride + i];
  for (auto& x : m) x /= static_cast<double>(r1 - r0);
  return m;
}

// Per key block: the mean, max and min of each channel, pooled once per head.
struct KeyPools {
  std::vector<double> avg, max, min;  // nkb × D
};

KeyPools pool_keys(const HeadView& v, std::int64_t bs) {
  const std::int64_t nkb = (v.sk + bs - 1) / bs;
  KeyPools p{std::vector<double>(static_cast<std::size_t>(nkb * v.d), 0.0),
             std::vector<double>(static_cast<std::size_t>(nkb * v.d), -HUGE_VAL),
             std::vector<double>(static_cast<std::size_t>(nkb * v.d), HUGE_VAL)};
  for (std::int64_t k = 0; k < v.sk; ++k) {
    const std::int64_t j = k / bs;
    for (std::int64_t i = 0; i < v.d; ++i) {
      const double x = v.krow(k)[i];
      p.avg[j * v.d + i] += x;
      p.max[j * v.d + i] = std::max(p.max[j * v.d + i], x);
      p.min[j * v.d + i] = std::min(p.min[j * v.d + i], x);
    }
  }
  for (std::int64_t j = 0; j < nkb; ++j)
    for (std::int64_t i = 0; i < v.d; ++i)
      p.avg[j * v.d + i] /= static_cast<double>(std::min(v.sk, (j + 1) * bs) - j * bs);
  return p;
}

// Block score estimated from pooled Q (avg) and pooled K. avg: q̄·k̄. maxminavg: the mean of q̄·k̄ and
// Quest's channel bound Σ_d max(q̄_d·max_d k, q̄_d·min_d k) — no learned gate, so an untrained
// stand-in for SeerAttention's gate over [max, min, avg] (docs/dynamic.md).
double pooled_score(const HeadView& v, const std::vector<double>& qbar, const KeyPools& kp, std::int64_t j,
                    bool maxminavg) {
  double avg = 0, bound = 0;
  const std::int64_t o = j * v.d;
  for (std::int64_t i = 0; i < v.d; ++i) {
    avg += qbar[i] * kp.avg[o + i];
    if (maxminavg) bound += std::max(qbar[i] * kp.max[o + i], qbar[i] * kp.min[o + i]);
  }
  return v.scale * (maxminavg ? 0.5 * (avg + bound) : avg);
}

}  // namespace

MaskPtr select_topk_blocks(const HeadView& v, const BlockMap& map) {
  const SelectorSpec& s = v.spec;
  const std::int64_t bs = s.block, nqb = map.q_tiles, nkb = map.k_tiles;
  auto kept = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(nqb * nkb), 0);
  std::vector<Ranges> kept_keys(static_cast<std::size_t>(nqb));
  Ranges keys;
  std::vector<double> sc;
  const KeyPools kp = s.score == "oracle" ? KeyPools{} : pool_keys(v, bs);
  for (std::int64_t t = 0; t < nqb; ++t) {
    const std::int64_t q0 = t * bs, q1 = std::min(v.sq, q0 + bs);
    const std::int64_t c0 = map.row_begin[t], c1 = map.row_begin[t + 1];
    const std::int64_t n = c1 - c0;  // candidates: the key blocks the base leaves non-empty
    if (n == 0) continue;
    std::vector<double> score(static_cast<std::size_t>(n), 0.0);
    if (s.score == "oracle") {  // the exact attention mass of each block, averaged over the block's rows
      for (std::int64_t q = q0; q < q1; ++q) {
        v.base.row_ranges(q, keys);
        const double lse = v.row_scores(q, keys, sc);
        std::size_t at = 0;
        std::int64_t c = c0;
        for (const auto& [lo, hi] : keys)
          for (std::int64_t key = lo; key < hi; ++key) {
            while (map.cols[c] != key / bs) ++c;
            score[c - c0] += std::exp(sc[at++] - lse) / static_cast<double>(q1 - q0);
          }
      }
    } else {
      const std::vector<double> qbar = pool_avg(v.q, v.q_stride, v.d, q0, q1);
      // The bias of a block pair read at its centre (middle row, middle key): the pooled vectors
      // stand for the whole block, and one bias value per pair keeps the score O(D) per block.
      const std::int64_t q_mid = block_centre(q0, q1);
      for (std::int64_t c = c0; c < c1; ++c) {
        const std::int64_t k0 = map.cols[c] * bs;
        score[c - c0] = pooled_score(v, qbar, kp, map.cols[c], s.pool == "maxminavg") +
                        v.bias_at(q_mid, block_centre(k0, std::min(v.sk, k0 + bs)));
      }
      if (s.threshold > 0) {  // normalised as a softmax weighted by each block's size in the base
        double m = -1e300, z = 0;
        for (double x : score) m = std::max(m, x);
        for (std::int64_t c = c0; c < c1; ++c) {
          const std::int64_t k0 = map.cols[c] * bs;
          score[c - c0] = std::exp(score[c - c0] - m) *
                          static_cast<double>(v.base.area_in(q0, q1 - q0, k0, std::min(v.sk, k0 + bs) - k0));
          z += score[c - c0];
        }
        for (auto& x : score) x /= z;
      }
    }
    // The diagonal blocks first, then the best of the rest.
    const Range diag = v.diagonal(q0);
    std::vector<std::uint8_t> take(static_cast<std::size_t>(n), 0);
    std::int64_t taken = 0;
    for (std::int64_t c = c0; c < c1; ++c)
      if (map.cols[c] * bs >= diag.first && map.cols[c] * bs < diag.second) take[c - c0] = 1, ++taken;
    if (s.threshold > 0) {
      for (std::int64_t i = 0; i < n; ++i)
        if (score[i] >= s.threshold) take[i] = 1;
    } else {
      const std::int64_t want = std::max<std::int64_t>(1, std::llround(s.keep * static_cast<double>(n)));
      std::vector<double> rest = score;
      for (std::int64_t i = 0; i < n; ++i)
        if (take[i]) rest[i] = -HUGE_VAL;
      for (std::int64_t i : top_indices(rest, std::max<std::int64_t>(0, want - taken))) take[i] = 1;
    }
    for (std::int64_t c = c0; c < c1; ++c)
      if (take[c - c0]) {
        (*kept)[t * nkb + map.cols[c]] = 1;
        const std::int64_t k0 = map.cols[c] * bs;
        kept_keys[t].emplace_back(k0, std::min(v.sk, k0 + bs));
      }
    normalise(kept_keys[t]);
  }
  const Mask& base = v.base;
  MaskPtr bp = v.base_ptr;
  Ranges b;
  return make_selected(
      s.selector, base.params(), v.sq, v.sk,
      [&](std::int64_t q, Ranges& out) {
        base.row_ranges(q, b);
        intersect(b, kept_keys[q / bs], out);
      },
      [kept, nkb, bs, bp](std::int64_t q, std::int64_t k) {
        return bp->allowed(q, k) && (*kept)[q / bs * nkb + k / bs] != 0;
      });
}

MaskPtr select_token_keep(const HeadView& v) {
  const SelectorSpec& s = v.spec;
  const std::int64_t bs = s.block;
  std::vector<double> received(static_cast<std::size_t>(v.sk), 0.0), sc;
  Ranges keys, row;
  for (std::int64_t q0 = 0; q0 < v.sq; q0 += bs) {
    const std::int64_t q1 = std::min(v.sq, q0 + bs);
    keys.clear();  // every key some row of the block may see
    for (std::int64_t q = q0; q < q1; ++q) {
      v.base.row_ranges(q, row);
      keys.insert(keys.end(), row.begin(), row.end());
    }
    normalise(keys);
    const std::vector<double> qbar = pool_avg(v.q, v.q_stride, v.d, q0, q1);
    const std::int64_t q_mid = block_centre(q0, q1);  // the pooled query's position, for the bias
    double m = -1e300;
    sc.clear();
    for (const auto& [lo, hi] : keys)
      for (std::int64_t k = lo; k < hi; ++k) {
        double dot = 0;
        for (std::int64_t i = 0; i < v.d; ++i) dot += qbar[i] * v.krow(k)[i];
        sc.push_back(v.scale * dot + v.bias_at(q_mid, k));
        m = std::max(m, sc.back());
      }
    double z = 0;
    for (double x : sc) z += std::exp(x - m);
    std::size_t at = 0;
    for (const auto& [lo, hi] : keys)
      for (std::int64_t k = lo; k < hi; ++k) received[k] += std::exp(sc[at++] - m) / z;
  }
  const auto top =
      top_indices(received, std::max<std::int64_t>(1, std::llround(s.keep * static_cast<double>(v.sk))));
  auto kept = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(v.sk), 0);
  for (auto k : top) (*kept)[k] = 1;
  const Ranges kept_ranges = index_ranges(top);
  const Mask& base = v.base;
  MaskPtr bp = v.base_ptr;
  Ranges b, sel;
  return make_selected(
      s.selector, base.params(), v.sq, v.sk,
      [&](std::int64_t q, Ranges& out) {
        sel = kept_ranges;
        sel.push_back(v.diagonal(q));
        normalise(sel);
        base.row_ranges(q, b);
        intersect(b, sel, out);
      },
      [kept, bp, d = v.diag](std::int64_t q, std::int64_t k) {
        return bp->allowed(q, k) && ((*kept)[k] != 0 || d.contains(q, k));
      });
}

}  // namespace attnbench::select
