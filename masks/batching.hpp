// Batches whose sequences have their own lengths (DESIGN.md "Batches of their own lengths"): lengths drawn
// from a distribution, and the masks of the packed and padded layouts built from a base mask.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/mask.hpp"
#include "masks/distributions.hpp"

namespace attnbench::masks {

// `count` lengths drawn independently from `dist` (a histogram, uniform, fixed or lognormal; not a
// mixture, whose shares are of a total). Unlike sample_lengths nothing is truncated to fill a total.
std::vector<std::int64_t> sample_count(const Distribution& dist, std::uint64_t seed, std::int64_t count);

// Base masks a batch can apply per sequence, and the document mask each becomes when packed.
const std::vector<std::string>& batching_base_masks();  // causal, full
std::string packed_mask_name(const std::string& base);  // causal -> causal_document, full -> full_document

// packed: B = 1, S = sum of lengths; the base mask per sequence (a library document mask).
MaskPtr packed_mask(const std::string& base, const std::vector<std::int64_t>& lengths);
// padded: sequence b's own mask in the S_max x S_max rectangle: the base mask over [0, len) on both
// axes, nothing else (queries >= len are empty rows). Exact slices, so block maps skip the padding.
MaskPtr padded_sequence_mask(const std::string& base, std::int64_t s_max, std::int64_t len);
// The mask that names a padded case (Problem::mask): the base mask at S_max, its parameters the
// lengths, so rows of different batches stay apart.
MaskPtr padded_case_mask(const std::string& base, const std::vector<std::int64_t>& lengths);
// Pairs a dense padded kernel computes: count x the base mask's area at S_max.
std::int64_t padded_area(const std::string& base, const std::vector<std::int64_t>& lengths);

}  // namespace attnbench::masks
