// MQAR inputs and recall (see mqar.hpp): seeded with mt19937_64 and Box-Muller, like harness/inputs.cpp.
#include "harness/mqar.hpp"
#include "masks/rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "harness/inputs.hpp"

namespace attnbench {

namespace {

using masks::mix_seed;

using i64 = std::int64_t;

// A seeded random unit vector of `n` dims (the embedding of one id in one head).
void unit_vector(std::uint64_t seed, i64 n, float* out) {
  std::mt19937_64 rng(seed);
  const double inv = 1.0 / 18446744073709551616.0;
  double norm = 0.0;
  std::vector<double> x(static_cast<std::size_t>(n));
  for (i64 i = 0; i < n; i += 2) {
    const double u1 = (static_cast<double>(rng()) + 1.0) * inv, u2 = static_cast<double>(rng()) * inv;
    const double r = std::sqrt(-2.0 * std::log(u1));
    x[i] = r * std::cos(6.283185307179586 * u2);
    if (i + 1 < n) x[i + 1] = r * std::sin(6.283185307179586 * u2);
  }
  for (double v : x) norm += v * v;
  norm = std::sqrt(norm);
  for (i64 i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] / norm);
}

// An integer in [0, n) from the generator: portable, unlike std::uniform_int_distribution, but not
// exactly uniform (modulo bias below n / 2^64, negligible for n up to the vocabulary's 65536).
i64 below(std::mt19937_64& rng, i64 n) { return static_cast<i64>(rng() % static_cast<std::uint64_t>(n)); }

}  // namespace

std::string mqar_unfit(const Problem& p, const InputSpec& spec) {
  if (!spec.mqar()) return "";
  const auto& s = p.shape;
  if (s.seqlen_q != s.seqlen_k)
    return fmt::format("mqar: needs seqlen_q == seqlen_k (got {} and {})", s.seqlen_q, s.seqlen_k);
  if (s.seqlen_q < 2 * spec.pairs)
    return fmt::format("mqar: {} pairs need seqlen >= {} (pairs, then their probes); seqlen is {}",
                       spec.pairs, 2 * spec.pairs, s.seqlen_q);
  return "";
}

Inputs generate_mqar_inputs(const Problem& p, const InputSpec& spec, MqarProbes& probes) {
  const Shape& s = p.shape;
  const i64 B = s.batch, S = s.seqlen_q, Hq = s.heads_q, Hk = s.heads_kv, Hv = s.value_heads(),
            D = s.head_dim, Dv = s.value_dim(), P = spec.pairs, half = spec.vocab / 2;
  Inputs in = generate_inputs(p);  // dout stays the seeded normal one; q, k, v are replaced
  std::fill(in.q.begin(), in.q.end(), 0.0f);
  std::fill(in.k.begin(), in.k.end(), 0.0f);
  std::fill(in.v.begin(), in.v.end(), 0.0f);
  const double beta = 4.0 * std::log(static_cast<double>(S)) + 8.0;
  const float a = static_cast<float>(std::sqrt(beta / p.softmax_scale));
  probes = MqarProbes{};
  probes.pairs = P;
  probes.value_ids = half;
  probes.codes.resize(static_cast<std::size_t>(Hv * half * Dv));
  for (i64 h = 0; h < Hv; ++h)
    for (i64 id = 0; id < half; ++id)
      unit_vector(mix_seed(mix_seed(spec.seed, 0x76616c ^ static_cast<std::uint64_t>(h)),
                           static_cast<std::uint64_t>(id)),
                  Dv, probes.codes.data() + (h * half + id) * Dv);
  std::vector<float> e(static_cast<std::size_t>(D));
  const auto key_embedding = [&](i64 head, i64 id) {
    unit_vector(mix_seed(mix_seed(spec.seed, 0x6b6579 ^ static_cast<std::uint64_t>(head)),
                         static_cast<std::uint64_t>(id)),
                D, e.data());
    for (auto& x : e) x = round_to_dtype(a * x, p.dtype);
  };
  for (i64 b = 0; b < B; ++b) {
    std::mt19937_64 rng(mix_seed(mix_seed(spec.seed, 0x6d716172), static_cast<std::uint64_t>(b)));
    // Distinct keys (a partial Fisher-Yates over the first half of the vocabulary), random values.
    std::vector<i64> ids(static_cast<std::size_t>(half));
    std::iota(ids.begin(), ids.end(), 0);
    std::vector<i64> key(P), value(P);
    for (i64 j = 0; j < P; ++j) {
      std::swap(ids[j], ids[j + below(rng, half - j)]);
      key[j] = ids[j];
      value[j] = below(rng, half);
    }
    // Probe positions: `P` distinct positions of [P, S), in order; each asks a pair once, shuffled.
    std::vector<i64> slots(static_cast<std::size_t>(S - P));
    std::iota(slots.begin(), slots.end(), P);
    for (i64 j = 0; j < P; ++j) std::swap(slots[j], slots[j + below(rng, S - P - j)]);
    std::vector<i64> pos(slots.begin(), slots.begin() + P), asked(P);
    std::sort(pos.begin(), pos.end());
    std::iota(asked.begin(), asked.end(), 0);
    for (i64 j = P - 1; j > 0; --j) std::swap(asked[j], asked[below(rng, j + 1)]);
    for (i64 j = 0; j < P; ++j) {
      for (i64 h = 0; h < Hk; ++h) {
        key_embedding(h, key[j]);
        std::copy(e.begin(), e.end(), in.k.begin() + ((b * S + j) * Hk + h) * D);
      }
      for (i64 h = 0; h < Hv; ++h) {
        const float* code = probes.codes.data() + (h * half + value[j]) * Dv;
        float* dst = in.v.data() + ((b * S + j) * Hv + h) * Dv;
        for (i64 c = 0; c < Dv; ++c) dst[c] = round_to_dtype(code[c], p.dtype);
      }
      // Query head h reads key head h / (Hq / Hk): its probe carries that head's embedding.
      for (i64 h = 0; h < Hq; ++h) {
        key_embedding(h / s.group(), key[asked[j]]);
        std::copy(e.begin(), e.end(), in.q.begin() + ((b * S + pos[j]) * Hq + h) * D);
      }
      probes.position.push_back(pos[j]);
      probes.target.push_back(value[asked[j]]);
    }
  }
  return in;
}

double mqar_recall(const Problem& p, const MqarProbes& probes, const std::vector<float>& o) {
  const Shape& s = p.shape;
  const i64 B = s.batch, S = s.seqlen_q, Hq = s.heads_q, Dv = s.value_dim(), P = probes.pairs,
            V = probes.value_ids;
  if (o.size() != static_cast<std::size_t>(s.o_elems()) || P == 0)
    return std::numeric_limits<double>::quiet_NaN();
  i64 right = 0;
#pragma omp parallel for collapse(2) reduction(+ : right) schedule(static)
  for (i64 b = 0; b < B; ++b)
    for (i64 h = 0; h < Hq; ++h)
      for (i64 j = 0; j < P; ++j) {
        const float* row = o.data() + ((b * S + probes.position[b * P + j]) * Hq + h) * Dv;
        const float* codes = probes.codes.data() + (h / s.group_v()) * V * Dv;
        i64 best = -1;
        float best_dot = -std::numeric_limits<float>::infinity();
        for (i64 id = 0; id < V; ++id) {
          float dot = 0.0f;
          for (i64 c = 0; c < Dv; ++c) dot += row[c] * codes[id * Dv + c];
          if (dot > best_dot) best_dot = dot, best = id;
        }
        right += best == probes.target[b * P + j] ? 1 : 0;
      }
  return static_cast<double>(right) / static_cast<double>(B * Hq * P);
}

}  // namespace attnbench
