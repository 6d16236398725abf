// Test-only: every selector and the quality pass recomputed from their definitions (DESIGN.md,
// docs/dynamic.md) as dense float64 loops over one (batch, head), reading the base mask only through its
// predicate (no slices, block maps or row ranges), so the selectors' fast paths meet an independent answer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"
#include "harness/selection_quality.hpp"
#include "masks/library.hpp"
#include "masks/selector_spec.hpp"

namespace attnbench::brute {

using Dense = std::vector<std::uint8_t>;  // [Sq, Sk] row-major, 1 = the pair is kept

// A small selector case: shape (D 16, softmax scale 1/4), the selector `spec` over `base` (a mask name
// or a YAML flow map), input seed, bias "none" | "alibi" | "relpos" (max_distance 16).
struct CaseShape {
  std::int64_t batch, heads_q, heads_kv, seqlen_q, seqlen_k;
  std::string base;
};
Problem make_case(const MaskSpec& spec, const CaseShape&, std::uint64_t seed, const std::string& bias);

// Row q's diagonal block holds key k: k's block is among the key blocks (of `block` keys) that hold
// q' + Sk - Sq for some row q' of q's query block, clipped to the keys.
bool in_diagonal(std::int64_t q, std::int64_t k, std::int64_t block, std::int64_t sq, std::int64_t sk);

// The selection of (b, h) as the selector's definition says, for the case's base (p.mask), bias and
// inputs; `stream` is kmeans' seeding stream (the selector uses b·Hq + h).
Dense topk_blocks(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);
Dense vertical_slash(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);
Dense kmeans(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);
Dense token_keep(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);
Dense recycled(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);
// Dispatches on spec.selector.
Dense selection(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b, std::int64_t h);

// kmeans' cluster of every query row (first Sq entries) and key row (next Sk) of (b, h).
std::vector<int> kmeans_clusters(const Problem&, const Inputs&, const SelectorSpec&, std::int64_t b,
                                 std::int64_t h);

// attn_recall and approx_rel_l2 of p.head_masks against exact attention (with p.bias) under p.mask.
SelectionQuality quality(const Problem&, const Inputs&);

}  // namespace attnbench::brute
