// Portable normal random inputs (mt19937_64 + Box-Muller, no std:: distributions).
#include "harness/inputs.hpp"
#include "masks/rng.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>

namespace attnbench {

float round_to_dtype(float x, DType d) {
  switch (d) {
    case DType::bf16: {
      // Round to nearest even on the upper 16 bits.
      std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
      if (std::isnan(x)) return x;
      bits += 0x7FFFu + ((bits >> 16) & 1u);
      return std::bit_cast<float>(bits & 0xFFFF0000u);
    }
    case DType::fp16: return static_cast<float>(static_cast<_Float16>(x));
    default: return x;
  }
}

namespace {

using masks::mix_seed;

// Chunks of 2^20 values, each from its own stream seeded by (seed, chunk): the
// values do not depend on the thread count, and 16K-token inputs take well under a second.
void fill_normal(std::vector<float>& out, std::int64_t n, std::uint64_t seed, DType d) {
  out.resize(static_cast<std::size_t>(n));
  constexpr std::int64_t chunk = 1 << 20;
  constexpr double two_pi = 6.283185307179586;
  const double inv = 1.0 / 18446744073709551616.0;  // 2^-64
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < (n + chunk - 1) / chunk; ++c) {
    std::mt19937_64 rng(mix_seed(seed, static_cast<std::uint64_t>(c)));
    const std::int64_t end = std::min(n, (c + 1) * chunk);
    for (std::int64_t i = c * chunk; i < end; i += 2) {
      const double u1 = (static_cast<double>(rng()) + 1.0) * inv;  // (0, 1]
      const double u2 = static_cast<double>(rng()) * inv;
      const double r = std::sqrt(-2.0 * std::log(u1));
      out[i] = round_to_dtype(static_cast<float>(r * std::cos(two_pi * u2)), d);
      if (i + 1 < end) out[i + 1] = round_to_dtype(static_cast<float>(r * std::sin(two_pi * u2)), d);
    }
  }
}

}  // namespace

Inputs generate_inputs(const Problem& p) {
  const Shape& s = p.shape;
  std::uint64_t h = p.seed;
  for (std::int64_t v : {s.batch, s.heads_q, s.heads_kv, s.seqlen_q, s.seqlen_k, s.head_dim,
                         static_cast<std::int64_t>(p.dtype)})
    h = mix_seed(h, static_cast<std::uint64_t>(v));
  // V's own heads and dim enter the seed only when they differ from K's, so the inputs of
  // cases with K and V alike are what they always were.
  if (s.separate_kv())
    for (std::int64_t v : {s.value_heads(), s.value_dim()}) h = mix_seed(h, static_cast<std::uint64_t>(v));
  Inputs in;
  fill_normal(in.q, s.q_elems(), mix_seed(h, 1), p.dtype);
  fill_normal(in.k, s.k_elems(), mix_seed(h, 2), p.dtype);
  fill_normal(in.v, s.v_elems(), mix_seed(h, 3), p.dtype);
  if (pass_has_backward(p.pass)) fill_normal(in.dout, s.o_elems(), mix_seed(h, 4), p.dtype);
  return in;
}

}  // namespace attnbench
