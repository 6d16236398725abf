// One point of a sweep as a backend sees it: shape, dtype, pass, mask and options.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnbench/bias.hpp"
#include "attnbench/mask.hpp"
#include "attnbench/types.hpp"

namespace attnbench {

// Tensor layout is [B, S, H, D] row-major for q/k/v/o/do/dq/dk/dv and
// [B, Hq, Sq] for the log-sum-exp (DESIGN.md "Problem and tensors"): q and dq
// [B,Sq,Hq,D], k and dk [B,Sk,Hk,D], v and dv [B,Sk,Hv,Dv], o and do [B,Sq,Hq,Dv].
// Query head h reads key head h/(Hq/Hk) and value head h/(Hq/Hv).
struct Shape {
  std::int64_t batch = 1;
  std::int64_t heads_q = 1;
  std::int64_t heads_kv = 1;  // key heads (Hk, the `heads_k` column); also V's unless heads_v is set
  std::int64_t seqlen_q = 0;
  std::int64_t seqlen_k = 0;
  std::int64_t head_dim = 0;    // D: q and k
  std::int64_t heads_v = 0;     // value heads (Hv); 0: heads_kv
  std::int64_t head_dim_v = 0;  // Dv: v, o and do; 0: head_dim

  std::int64_t heads_k() const { return heads_kv; }
  std::int64_t value_heads() const { return heads_v > 0 ? heads_v : heads_kv; }
  std::int64_t value_dim() const { return head_dim_v > 0 ? head_dim_v : head_dim; }
  // K and V differ in heads or dim (backends without that support say unsupported).
  bool separate_kv() const { return value_heads() != heads_kv || value_dim() != head_dim; }

  std::int64_t q_elems() const { return batch * seqlen_q * heads_q * head_dim; }
  std::int64_t k_elems() const { return batch * seqlen_k * heads_kv * head_dim; }
  std::int64_t v_elems() const { return batch * seqlen_k * value_heads() * value_dim(); }
  std::int64_t o_elems() const { return batch * seqlen_q * heads_q * value_dim(); }
  // K (and V, for backends that require K and V alike: see separate_kv()).
  std::int64_t kv_elems() const { return k_elems(); }
  std::int64_t lse_elems() const { return batch * heads_q * seqlen_q; }
  std::int64_t group() const { return heads_q / heads_kv; }         // query heads per key head
  std::int64_t group_v() const { return heads_q / value_heads(); }  // query heads per value head
};

struct Problem {
  Shape shape;
  DType dtype = DType::fp32;
  Pass pass = Pass::fwd;
  MaskPtr mask;
  // Masks that differ by batch element or query head (per-head groups, padded batches, dynamic
  // selectors). Empty: `mask` holds for every (b, h). Otherwise batch·heads_q entries, index
  // b·heads_q + h, every one Sq × Sk; `mask` then names the case (its name and parameters label the
  // row; for a selector, the base mask it selects from) and backends must read mask_for(b, h).
  std::vector<MaskPtr> head_masks;
  // Additive score bias (ALiBi, relative position), or null; backends read bias->value(h, q, k).
  BiasPtr bias;
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

  // The mask of batch element b and query head h.
  const Mask& mask_for(std::int64_t b, std::int64_t h) const {
    return head_masks.empty() ? *mask : *head_masks[static_cast<std::size_t>(b * shape.heads_q + h)];
  }
  bool uniform_mask() const { return head_masks.empty(); }
  // Allowed pairs summed over every (batch element, query head).
  double pairs() const;
  // The `area` column: one (b, h)'s pairs when the mask is uniform; otherwise the pairs summed
  // over the axes the mask varies along (DESIGN.md: a per-head mask's area sums over heads, a
  // padded batch's over its sequences), so `density` = area / (Sq·Sk·those axes' sizes).
  std::int64_t area() const;
  double density() const;
  // Sizes of the axes the masks vary along (1 when uniform along it).
  std::int64_t mask_batch_span() const;
  std::int64_t mask_head_span() const;
};

// FLOP convention of DESIGN.md: only allowed pairs count.
double pass_flops(const Problem&);

}  // namespace attnbench
