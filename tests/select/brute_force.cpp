// Test-only dense float64 recomputations of the selectors and the quality pass (see brute_force.hpp).
#include "tests/select/brute_force.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "masks/rng.hpp"

namespace attnbench::brute {

namespace {

// One (batch, query head): rows of Q, K, V, the base predicate, scores with the bias.
struct Head {
  const Problem& p;
  const Inputs& in;
  std::int64_t b, h, sq, sk, d;
  Head(const Problem& p_, const Inputs& in_, std::int64_t b_, std::int64_t h_)
      : p(p_), in(in_), b(b_), h(h_), sq(p_.shape.seqlen_q), sk(p_.shape.seqlen_k), d(p_.shape.head_dim) {}
  double qv(std::int64_t q, std::int64_t t) const {
    return in.q[static_cast<std::size_t>(((b * sq + q) * p.shape.heads_q + h) * d + t)];
  }
  double kv(std::int64_t k, std::int64_t t) const {
    const std::int64_t kh = h / (p.shape.heads_q / p.shape.heads_kv);
    return in.k[static_cast<std::size_t>(((b * sk + k) * p.shape.heads_kv + kh) * d + t)];
  }
  bool base(std::int64_t q, std::int64_t k) const { return p.mask->allowed(q, k); }
  double bias(std::int64_t q, std::int64_t k) const { return p.bias ? p.bias->value(h, q, k) : 0.0; }
  double score(std::int64_t q, std::int64_t k) const {
    double s = 0;
    for (std::int64_t t = 0; t < d; ++t) s += qv(q, t) * kv(k, t);
    return s * p.softmax_scale + bias(q, k);
  }
  // Softmax of row q over its base keys (0 elsewhere), with the bias.
  std::vector<double> probs(std::int64_t q) const {
    std::vector<double> pr(static_cast<std::size_t>(sk), -HUGE_VAL);
    double m = -HUGE_VAL, z = 0;
    for (std::int64_t k = 0; k < sk; ++k)
      if (base(q, k)) m = std::max(m, pr[k] = score(q, k));
    if (m == -HUGE_VAL) return std::vector<double>(static_cast<std::size_t>(sk), 0.0);  // no base key
    for (auto& x : pr) z += x = std::exp(x - m);
    for (auto& x : pr) x = z > 0 ? x / z : 0.0;
    return pr;
  }
  bool diag(std::int64_t q, std::int64_t k, std::int64_t block) const {
    return in_diagonal(q, k, block, sq, sk);
  }
  // Keeps base ∩ (pick ∪ diagonal block).
  template <class Pick>
  Dense mask(std::int64_t block, Pick pick) const {
    Dense out(static_cast<std::size_t>(sq * sk), 0);
    for (std::int64_t q = 0; q < sq; ++q)
      for (std::int64_t k = 0; k < sk; ++k)
        out[q * sk + k] = base(q, k) && (pick(q, k) || diag(q, k, block)) ? 1 : 0;
    return out;
  }
};

// The n largest entries (ties: the lower index), as a membership vector.
std::vector<bool> top(const std::vector<double>& v, std::int64_t n) {
  std::vector<std::int64_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::int64_t a, std::int64_t b) { return v[a] > v[b]; });
  std::vector<bool> in(v.size(), false);
  for (std::int64_t i = 0; i < std::min<std::int64_t>(n, static_cast<std::int64_t>(v.size())); ++i)
    in[idx[i]] = true;
  return in;
}

std::int64_t centre(std::int64_t lo, std::int64_t hi) { return lo + (hi - lo - 1) / 2; }

}  // namespace

Problem make_case(const MaskSpec& spec, const CaseShape& c, std::uint64_t seed, const std::string& bias) {
  Problem p;
  p.shape = {c.batch, c.heads_q, c.heads_kv, c.seqlen_q, c.seqlen_k, 16};
  MaskSpec s = spec;
  s.params["base"] = c.base;
  p.mask = build_mask(s, c.seqlen_q, c.seqlen_k);
  p.softmax_scale = 0.25;
  p.seed = seed;
  if (bias == "alibi") p.bias = Bias::alibi(c.heads_q, c.seqlen_q, c.seqlen_k);
  if (bias == "relpos") p.bias = Bias::relpos(c.heads_q, c.seqlen_q, c.seqlen_k, 16, seed);
  return p;
}

bool in_diagonal(std::int64_t q, std::int64_t k, std::int64_t block, std::int64_t sq, std::int64_t sk) {
  const std::int64_t q0 = q / block * block, q1 = std::min(sq, q0 + block) - 1;
  const std::int64_t lo = q0 + sk - sq, hi = q1 + sk - sq;
  if (hi < 0 || lo >= sk) return false;
  return k / block >= std::max<std::int64_t>(0, lo) / block && k / block <= std::min(sk - 1, hi) / block;
}

Dense topk_blocks(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h) {
  const Head v(p, in, b, h);
  const std::int64_t bs = s.block, nqb = (v.sq + bs - 1) / bs, nkb = (v.sk + bs - 1) / bs;
  std::vector<bool> kept(static_cast<std::size_t>(nqb * nkb), false);
  for (std::int64_t t = 0; t < nqb; ++t) {
    const std::int64_t q0 = t * bs, q1 = std::min(v.sq, q0 + bs);
    std::vector<std::int64_t> cand;  // key blocks with a base pair in this query block
    std::vector<double> area;
    for (std::int64_t j = 0; j < nkb; ++j) {
      double a = 0;
      for (std::int64_t q = q0; q < q1; ++q)
        for (std::int64_t k = j * bs; k < std::min(v.sk, (j + 1) * bs); ++k) a += v.base(q, k);
      if (a > 0) cand.push_back(j), area.push_back(a);
    }
    if (cand.empty()) continue;
    const auto n = static_cast<std::int64_t>(cand.size());
    std::vector<double> score(static_cast<std::size_t>(n), 0.0);
    if (s.score == "oracle") {  // attention mass of the block, averaged over the query block's rows
      for (std::int64_t q = q0; q < q1; ++q) {
        const auto pr = v.probs(q);
        for (std::int64_t i = 0; i < n; ++i)
          for (std::int64_t k = cand[i] * bs; k < std::min(v.sk, (cand[i] + 1) * bs); ++k)
            score[i] += pr[k] / static_cast<double>(q1 - q0);
      }
    } else {
      std::vector<double> qbar(static_cast<std::size_t>(v.d), 0.0);
      for (std::int64_t t2 = 0; t2 < v.d; ++t2) {
        for (std::int64_t q = q0; q < q1; ++q) qbar[t2] += v.qv(q, t2);
        qbar[t2] /= static_cast<double>(q1 - q0);
      }
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t k0 = cand[i] * bs, k1 = std::min(v.sk, k0 + bs);
        double avg = 0, bound = 0;
        for (std::int64_t t2 = 0; t2 < v.d; ++t2) {
          double sum = 0, mx = -HUGE_VAL, mn = HUGE_VAL;
          for (std::int64_t k = k0; k < k1; ++k) {
            sum += v.kv(k, t2);
            mx = std::max(mx, v.kv(k, t2));
            mn = std::min(mn, v.kv(k, t2));
          }
          avg += qbar[t2] * (sum / static_cast<double>(k1 - k0));
          bound += std::max(qbar[t2] * mx, qbar[t2] * mn);
        }
        const double raw = s.pool == "maxminavg" ? 0.5 * (avg + bound) : avg;
        score[i] = p.softmax_scale * raw + v.bias(centre(q0, q1), centre(k0, k1));
      }
      if (s.threshold > 0) {  // softmax over the blocks, each weighted by its base pairs
        const double m = *std::max_element(score.begin(), score.end());
        double z = 0;
        for (std::int64_t i = 0; i < n; ++i) z += score[i] = std::exp(score[i] - m) * area[i];
        for (auto& x : score) x /= z;
      }
    }
    std::vector<bool> take(static_cast<std::size_t>(n), false);
    std::int64_t taken = 0;
    for (std::int64_t i = 0; i < n; ++i)
      if (v.diag(q0, cand[i] * bs, bs)) take[i] = true, ++taken;
    if (s.threshold > 0) {
      for (std::int64_t i = 0; i < n; ++i) take[i] = take[i] || score[i] >= s.threshold;
    } else {
      const std::int64_t want = std::max<std::int64_t>(1, std::llround(s.keep * static_cast<double>(n)));
      std::vector<double> rest = score;
      for (std::int64_t i = 0; i < n; ++i)
        if (take[i]) rest[i] = -HUGE_VAL;
      const auto best = top(rest, want - taken);
      for (std::int64_t i = 0; i < n; ++i) take[i] = take[i] || best[i];
    }
    for (std::int64_t i = 0; i < n; ++i) kept[t * nkb + cand[i]] = take[i];
  }
  return v.mask(bs, [&](std::int64_t q, std::int64_t k) { return kept[q / bs * nkb + k / bs]; });
}

Dense vertical_slash(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b,
                     std::int64_t h) {
  const Head v(p, in, b, h);
  const std::int64_t off = v.sk - v.sq;
  std::vector<double> col(static_cast<std::size_t>(v.sk), 0.0),
      slash(static_cast<std::size_t>(v.sq + v.sk - 1), 0.0);
  for (std::int64_t q = std::max<std::int64_t>(0, v.sq - s.last_q); q < v.sq; ++q) {
    const auto pr = v.probs(q);
    for (std::int64_t k = 0; k < v.sk; ++k) col[k] += pr[k], slash[q + off - k + v.sq - 1] += pr[k];
  }
  const auto cols = top(col, s.vertical), diags = top(slash, s.slash);
  return v.mask(s.block,
                [&](std::int64_t q, std::int64_t k) { return cols[k] || diags[q + off - k + v.sq - 1]; });
}

std::vector<int> kmeans_clusters(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b,
                                 std::int64_t h) {
  const Head v(p, in, b, h);
  const std::int64_t n = v.sq + v.sk, d = v.d, c = std::min(s.clusters, n);
  std::vector<std::vector<double>> x(static_cast<std::size_t>(n), std::vector<double>(d));
  for (std::int64_t i = 0; i < n; ++i) {
    double norm = 0;
    for (std::int64_t t = 0; t < d; ++t) {
      x[i][t] = i < v.sq ? v.qv(i, t) : v.kv(i - v.sq, t);
      norm += x[i][t] * x[i][t];
    }
    const double inv = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
    for (auto& e : x[i]) e *= inv;
  }
  // Initial centroids: c distinct points drawn as the selector draws them (stream b·Hq + h).
  masks::Rng rng(s.seed, static_cast<std::uint64_t>(b * p.shape.heads_q + h));
  std::vector<std::vector<double>> cent;
  std::vector<std::int64_t> picked;
  while (static_cast<std::int64_t>(picked.size()) < c) {
    const auto i = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
    if (std::count(picked.begin(), picked.end(), i) == 0) picked.push_back(i), cent.push_back(x[i]);
  }
  std::vector<int> cl(static_cast<std::size_t>(n), 0);
  const auto assign = [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      double best = -HUGE_VAL;
      for (std::int64_t j = 0; j < c; ++j) {
        const double sim = std::inner_product(x[i].begin(), x[i].end(), cent[j].begin(), 0.0);
        if (sim > best) best = sim, cl[i] = static_cast<int>(j);
      }
    }
  };
  assign();
  for (std::int64_t it = 0; it < s.iters; ++it) {
    for (std::int64_t j = 0; j < c; ++j) {  // the normalised mean of the members; an empty cluster stays
      std::vector<double> sum(static_cast<std::size_t>(d), 0.0);
      for (std::int64_t i = 0; i < n; ++i)
        if (cl[i] == j)
          for (std::int64_t t = 0; t < d; ++t) sum[t] += x[i][t];
      const double norm = std::sqrt(std::inner_product(sum.begin(), sum.end(), sum.begin(), 0.0));
      if (norm > 0)
        for (std::int64_t t = 0; t < d; ++t) cent[j][t] = sum[t] / norm;
    }
    assign();
  }
  return cl;
}

Dense kmeans(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h) {
  const Head v(p, in, b, h);
  const auto cl = kmeans_clusters(p, in, s, b, h);
  return v.mask(s.block, [&](std::int64_t q, std::int64_t k) { return cl[q] == cl[v.sq + k]; });
}

Dense token_keep(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h) {
  const Head v(p, in, b, h);
  std::vector<double> received(static_cast<std::size_t>(v.sk), 0.0);
  for (std::int64_t q0 = 0; q0 < v.sq; q0 += s.block) {
    const std::int64_t q1 = std::min(v.sq, q0 + s.block), mid = centre(q0, q1);
    std::vector<double> qbar(static_cast<std::size_t>(v.d), 0.0);
    for (std::int64_t t = 0; t < v.d; ++t) {
      for (std::int64_t q = q0; q < q1; ++q) qbar[t] += v.qv(q, t);
      qbar[t] /= static_cast<double>(q1 - q0);
    }
    std::vector<double> e(static_cast<std::size_t>(v.sk), -HUGE_VAL);  // scores of the visible keys
    for (std::int64_t k = 0; k < v.sk; ++k) {
      bool visible = false;
      for (std::int64_t q = q0; q < q1 && !visible; ++q) visible = v.base(q, k);
      if (!visible) continue;
      double dot = 0;
      for (std::int64_t t = 0; t < v.d; ++t) dot += qbar[t] * v.kv(k, t);
      e[k] = dot * p.softmax_scale + v.bias(mid, k);
    }
    const double m = *std::max_element(e.begin(), e.end());
    if (m == -HUGE_VAL) continue;
    double z = 0;
    for (auto& x : e) z += x = std::exp(x - m);
    for (std::int64_t k = 0; k < v.sk; ++k) received[k] += e[k] / z;
  }
  const auto kept =
      top(received, std::max<std::int64_t>(1, std::llround(s.keep * static_cast<double>(v.sk))));
  return v.mask(s.block, [&](std::int64_t, std::int64_t k) { return kept[k]; });
}

Dense recycled(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h) {
  const Head v(p, in, b, h);
  const std::int64_t off = v.sk - v.sq;
  std::vector<std::vector<bool>> tops;  // per group: the top-K base keys of its first row
  for (std::int64_t r0 = 0; r0 < v.sq; r0 += s.stride) {
    std::vector<double> sc(static_cast<std::size_t>(v.sk), -HUGE_VAL);
    std::int64_t visible = 0;
    for (std::int64_t k = 0; k < v.sk; ++k)
      if (v.base(r0, k)) sc[k] = v.score(r0, k), ++visible;
    tops.push_back(top(sc, std::min(s.topk, visible)));
  }
  return v.mask(s.block, [&](std::int64_t q, std::int64_t k) {
    const std::int64_t r0 = q / s.stride * s.stride;
    return q == r0 || k > r0 + off || tops[q / s.stride][k];
  });
}

Dense selection(const Problem& p, const Inputs& in, const SelectorSpec& s, std::int64_t b, std::int64_t h) {
  if (s.selector == "topk_blocks") return topk_blocks(p, in, s, b, h);
  if (s.selector == "vertical_slash") return vertical_slash(p, in, s, b, h);
  if (s.selector == "kmeans") return kmeans(p, in, s, b, h);
  if (s.selector == "token_keep") return token_keep(p, in, s, b, h);
  if (s.selector == "recycled") return recycled(p, in, s, b, h);
  throw std::invalid_argument("brute::selection: unknown selector " + s.selector);
}

SelectionQuality quality(const Problem& p, const Inputs& in) {
  const auto& sh = p.shape;
  const std::int64_t Dv = sh.value_dim(), Hv = sh.value_heads();
  double recall = 0, err2 = 0, ref2 = 0;
  std::int64_t rows = 0;
  for (std::int64_t b = 0; b < sh.batch; ++b)
    for (std::int64_t h = 0; h < sh.heads_q; ++h) {
      const Head v(p, in, b, h);
      const Mask& sel = p.mask_for(b, h);
      for (std::int64_t q = 0; q < v.sq; ++q) {
        const auto pr = v.probs(q);
        double kept = 0, any = 0;
        std::vector<double> ob(static_cast<std::size_t>(Dv), 0.0), os(static_cast<std::size_t>(Dv), 0.0);
        for (std::int64_t k = 0; k < v.sk; ++k) {
          if (!v.base(q, k)) continue;
          any = 1;
          const bool s = sel.allowed(q, k);
          kept += s ? pr[k] : 0.0;
          for (std::int64_t t = 0; t < Dv; ++t) {
            const double val =
                in.v[static_cast<std::size_t>(((b * v.sk + k) * Hv + h / (sh.heads_q / Hv)) * Dv + t)];
            ob[t] += pr[k] * val;
            if (s) os[t] += pr[k] * val;
          }
        }
        if (any == 0) continue;
        recall += kept;
        ++rows;
        for (std::int64_t t = 0; t < Dv; ++t) {
          const double o_sel = kept > 0 ? os[t] / kept : 0.0;
          err2 += (o_sel - ob[t]) * (o_sel - ob[t]);
          ref2 += ob[t] * ob[t];
        }
      }
    }
  return {rows > 0 ? recall / static_cast<double>(rows) : 1.0, ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0};
}

}  // namespace attnbench::brute
