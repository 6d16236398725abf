// What the approximate CPU backends share: one head's view of the tensors, option reading with clear
// errors, the capability answer, partial results merged by log-sum-exp, and the execution over heads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"
#include "masks/rng.hpp"

namespace attnbench::cpu::approx {

using i64 = std::int64_t;

// The tolerance of every approximate backend on approx_rel_l2: a sanity bound, not a quality target.
// Their outputs are weighted averages of V rows (positive weights), so a row's error is at most
// 2 max|v|, while ||O_exact|| of a soft softmax over random values is small (~ sqrt(D / S_eff)): on
// random inputs a correct run reaches rel L2 of several units (HyperAttention with 64 samples at
// S 4096, full mask: ~7). The bound catches NaN, inf and exploding weights; quality is the column
// itself, and exactness is proven by the tests in the regimes where each method is exact.
constexpr double kSanityTolerance = 100.0;
// Where a method is exact (Support::tolerance_fwd), it is held to the fp32 forward default: the
// algorithms sum in float64, so only the fp32 output rounding remains.
constexpr double kExactTolerance = 1e-5;

// One (batch, query head) of a case, gathered contiguous: q [sq, d], k [sk, d], v [sk, dv].
// `causal` is the base mask causal (bottom-right aligned: query i sees keys <= i + sk - sq);
// otherwise full. The algorithm writes o [sq, dv] and lse [sq] (its estimate of the
// log-normaliser; -inf and o = 0 for a row with no allowed key).
struct Head {
  i64 sq = 0, sk = 0, d = 0, dv = 0;
  std::vector<float> q, k, v;
  bool causal = false;
  double scale = 1.0;
  std::uint64_t seed = 0;  // this head's random stream (hyperplanes, samples, features)
  const float* qrow(i64 i) const { return q.data() + i * d; }
  const float* krow(i64 j) const { return k.data() + j * d; }
  const float* vrow(i64 j) const { return v.data() + j * dv; }
};

// A normalised partial result of one query row: o over some keys and the log of their weight sum.
struct Partial {
  std::vector<double> o;  // [dv]
  double lse = -1.0 / 0.0;
};

// Merges b into a as CP does (DESIGN.md "Context parallelism"): a partial with lse -inf adds nothing.
void merge_into(Partial& a, const Partial& b);

// Exact softmax of one query over the keys `keys` (indices into the head), each key's weight
// multiplied by exp(log_weight) (importance weights of sampled keys); empty keys: lse -inf.
Partial attend(const Head&, i64 qi, const std::vector<i64>& keys, double log_weight = 0.0);

// Seeds of independent, portable streams: masks::mix_seed (masks/rng.hpp).
using masks::mix_seed;

// Reads an integer option of the scenario (Problem::options) in [lo, hi], `fallback` when absent.
// Throws InputError "BACKEND: options.KEY: 'VALUE' is not accepted (accepted: an integer from LO to HI)".
i64 int_option(const Problem&, const std::string& backend, const std::string& key, i64 fallback, i64 lo,
               i64 hi);

// The algorithm of one backend, run on one head: fills o [sq * dv] and lse [sq].
using HeadAlgorithm = std::function<void(const Head&, double* o, double* lse)>;

// The shared BackendInfo fields: fp32, forward only, masks full and causal, approximate, any heads,
// tolerance kSanityTolerance.
BackendInfo approx_info(std::string name, std::string description, std::vector<std::string> parameters);

// Capability: the base masks full and causal only (the approximations are defined for those),
// forward only. `exact` reads the options (an InputError it throws is the invalid answer) and says
// whether they make the method exact on this case: the answer then carries kExactTolerance.
Support approx_supports(const BackendInfo&, const Problem&, const std::function<bool()>& exact);

// The execution of every approximate backend: per (batch, query head) in parallel, the heads
// gathered; the backend builds `algo` once in prepare (options read there).
// `scratch_bytes` per thread is charged to the memory budget.
std::unique_ptr<Execution> make_execution(const Problem&, const Inputs&, Resources&, HeadAlgorithm,
                                          std::size_t scratch_bytes_per_thread);

}  // namespace attnbench::cpu::approx
