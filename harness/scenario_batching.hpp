// The scenario's `batching` field (DESIGN.md "Batches of their own lengths"): parsing, validation, and the
// per-layout shape and masks of a case.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "harness/scenario_yaml.hpp"

namespace attnbench {

struct Scenario;

struct BatchingSpec {
  std::vector<std::int64_t> lengths;  // one per sequence: given, or drawn at parse time
  std::string source;                 // "lengths", or the distribution as JSON with its seed
  std::vector<std::string> layouts;   // packed, padded: a sweep axis
};

// Reads root["batching"] into s.batching (nothing when absent) and checks that the fields it
// replaces (seqlens, seqlens_k, shape.batch) are absent and every mask is a base it can apply per
// sequence. Errors: "FILE:LINE: batching.FIELD: message (accepted: ...)".
void parse_batching(const scenario_yaml::Ctx& c, const YAML::Node& root, Scenario& s);

// One layout of a batch, ready for a case: shape sizes, the naming mask, the per-(b, h) masks
// (padded only) and the pairs a dense padded kernel computes.
struct BatchLayout {
  std::int64_t batch = 1, seqlen = 0;
  MaskPtr mask;
  std::vector<MaskPtr> per_sequence;  // padded: one per batch element; packed: empty
  std::int64_t padded_area = 0;
};
BatchLayout batch_layout(const BatchingSpec&, const std::string& layout, const std::string& base_mask);
// Problem::head_masks for a padded layout: sequence b's mask for every query head.
std::vector<MaskPtr> head_masks_of(const BatchLayout&, std::int64_t heads_q);

}  // namespace attnbench
