// The MQAR recall probe (Zoology, arXiv 2312.04927) as an input kind: Q, K, V built so that exact attention
// retrieves, for each probe query, the value stored with its key earlier in the sequence; `recall` decodes
// it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/tensors.hpp"
#include "harness/scenario.hpp"

namespace attnbench {

// What a row's recall needs besides O: where the probes are, what they must retrieve, and the
// value codes to decode against (one codebook per value head).
struct MqarProbes {
  std::int64_t pairs = 0, value_ids = 0;  // value ids are vocab/2 .. vocab-1, stored as 0 .. value_ids-1
  std::vector<std::int64_t> position;     // [B * pairs] probe query positions
  std::vector<std::int64_t> target;       // [B * pairs] the value id each probe must decode to
  std::vector<float> codes;               // [Hv, value_ids, Dv] unit vectors
};

// Why the case cannot hold the probe (a `skipped` row), or "" when it can: MQAR needs Sq = Sk
// and room for the pairs and their probes (S >= 2 * pairs).
std::string mqar_unfit(const Problem&, const InputSpec&);

// The layout, per batch element (its own draw from spec.seed): pair j (distinct key id, random
// value id) at position j < pairs; the probes at `pairs` distinct random positions after them,
// each asking one pair once. K at pair j = a * e(key), V = code(value); Q at a probe = a * e(key
// asked); every other Q, K, V row is 0. e and code are seeded random unit vectors per key (value)
// head and id; a = sqrt(beta / softmax_scale) so a probe's score with its own key is beta =
// 4 ln S + 8, with another key beta * cos (near 0), with the rest 0: exact causal attention puts
// nearly all its weight on the right pair. dout (for backward passes) stays the seeded normal one.
Inputs generate_mqar_inputs(const Problem&, const InputSpec&, MqarProbes& probes);

// Fraction of (batch, query head, probe) whose O row's nearest value code (largest dot product
// over every value id of the vocabulary) is its target. NaN when o is empty (a bwd pass).
double mqar_recall(const Problem&, const MqarProbes&, const std::vector<float>& o);

}  // namespace attnbench
