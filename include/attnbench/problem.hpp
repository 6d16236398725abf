// One point of a sweep as a backend sees it: shape, dtype, pass, mask and options.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "attnbench/mask.hpp"
#include "attnbench/types.hpp"

namespace attnbench {

// Tensor layout is [B, S, H, D] row-major for q/k/v/o/do/dq/dk/dv and
// [B, Hq, Sq] for the log-sum-exp (DESIGN.md "Problem and tensors").
struct Shape {
  std::int64_t batch = 1;
  std::int64_t heads_q = 1;
  std::int64_t heads_kv = 1;
  std::int64_t seqlen_q = 0;
  std::int64_t seqlen_k = 0;
  std::int64_t head_dim = 0;

  std::int64_t q_elems() const { return batch * seqlen_q * heads_q * head_dim; }
  std::int64_t kv_elems() const { return batch * seqlen_k * heads_kv * head_dim; }
  std::int64_t lse_elems() const { return batch * heads_q * seqlen_q; }
  std::int64_t group() const { return heads_q / heads_kv; }  // query heads per KV head
};

struct Problem {
  Shape shape;
  DType dtype = DType::fp32;
  Pass pass = Pass::fwd;
  MaskPtr mask;
  double softmax_scale = 0.0;  // 1/sqrt(head_dim) unless a scenario sets it
  std::uint64_t seed = 0;      // seed of the random inputs
  std::string strategy = "none";
  int world_size = 1;
  // Strategy and backend parameters from the scenario (balance, ulysses_degree, window...).
  std::map<std::string, std::string> options;

  std::string option(const std::string& key, const std::string& fallback) const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }
};

// FLOP convention of DESIGN.md: only allowed pairs count.
double pass_flops(const Problem&);

}  // namespace attnbench
