// Document-length distributions: the LongCA-bench histograms, uniform and fixed, and seeded sampling.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnbench::masks {

struct LengthBucket {
  std::int64_t lo, hi;      // token lengths [lo, hi)
  std::int64_t weight_ppm;  // probability in parts per million
};

// The published histogram of that name (pile, prolong64k, prolong512k); empty if unknown.
std::span<const LengthBucket> histogram_buckets(std::string_view name);

struct Distribution {
  std::string kind;               // pile, prolong64k, prolong512k, uniform, fixed, lognormal, mixture
  std::int64_t min = 0, max = 0;  // uniform; lognormal's clamp
  std::int64_t length = 0;        // fixed
  // (lognormal's fields come after the older ones, so positional initialisers keep their meaning)
  std::int64_t median = 0;            // lognormal: exp(mu), the median length before clamping
  double sigma = 0;                   // lognormal: standard deviation of log(length)
  std::vector<Distribution> parts{};  // mixture: the parts (none of them a mixture)
  std::vector<double> shares{};       // mixture: the share of the tokens of each part, summing to 1
  std::string to_json() const;        // e.g. "pile" or {"uniform":{"min":64,"max":4096}}
};

// Document lengths summing to `total`: draw a bucket by weight, then a length uniformly
// inside it (never 0), until the sequence is full; the last document is truncated.
// A mixture fills floor(share * total) tokens from each part but the last, which takes
// the rest (each part's last document truncated), then shuffles the documents
// (LongCA-bench's long-document masks: 40 % short documents, 60 % of 8K-30K, shuffled).
std::vector<std::int64_t> sample_lengths(const Distribution&, std::uint64_t seed, std::int64_t total);

// The histogram LongCA-bench uses for a sequence of this length: pile up to 12K,
// prolong64k up to 64K, prolong512k beyond.
std::string default_histogram_for(std::int64_t seqlen);

struct DistributionInfo {
  std::string name, parameters, description;
};
const std::vector<DistributionInfo>& distribution_catalogue();

}  // namespace attnbench::masks
