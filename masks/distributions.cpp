// Seeded sampling of document lengths from the built-in distributions.
#include "masks/distributions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "attnbench/types.hpp"
#include "masks/library.hpp"
#include "masks/rng.hpp"

namespace attnbench::masks {

std::string Distribution::to_json() const {
  if (kind == "uniform") return fmt::format(R"({{"uniform":{{"min":{},"max":{}}}}})", min, max);
  if (kind == "lognormal")
    return fmt::format(R"({{"lognormal":{{"median":{},"sigma":{},"min":{},"max":{}}}}})", median, sigma, min,
                       max);
  if (kind == "fixed") return fmt::format(R"({{"fixed":{{"length":{}}}}})", length);
  if (kind == "mixture") {
    std::string items;
    for (std::size_t i = 0; i < parts.size(); ++i)
      items +=
          fmt::format(R"({}{{"share":{},"distribution":{}}})", i ? "," : "", shares[i], parts[i].to_json());
    return R"({"mixture":[)" + items + "]}";
  }
  return "\"" + kind + "\"";
}

namespace {

// Appends lengths drawn from a plain (non-mixture) distribution until `total` more tokens are filled.
void sample_into(const Distribution& dist, Rng& rng, std::int64_t total, std::vector<std::int64_t>& lengths) {
  const auto buckets = histogram_buckets(dist.kind);
  std::int64_t weight_sum = 0;
  for (const auto& b : buckets) weight_sum += b.weight_ppm;
  if (dist.kind != "uniform" && dist.kind != "fixed" && weight_sum <= 0)
    throw std::logic_error("unknown distribution " + dist.kind);

  std::int64_t filled = 0;
  while (filled < total) {
    std::int64_t length = 0;
    if (dist.kind == "uniform") {
      length = rng.between(dist.min, dist.max);
    } else if (dist.kind == "fixed") {
      length = dist.length;
    } else {
      auto pick = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(weight_sum)));
      std::size_t i = 0;
      while (pick >= buckets[i].weight_ppm) pick -= buckets[i++].weight_ppm;
      // A bucket starting at 0 would allow empty documents: draw from [max(lo, 1), hi).
      length = rng.between(std::max<std::int64_t>(buckets[i].lo, 1), buckets[i].hi - 1);
    }
    length = std::min(std::max<std::int64_t>(length, 1), total - filled);
    lengths.push_back(length);
    filled += length;
    if (filled < total && static_cast<std::int64_t>(lengths.size()) >= kMaxMaskDocuments)
      throw InputError(
          fmt::format("more than {} = 2^24 documents in {} tokens is past the limit (accepted: "
                      "longer documents or a shorter sequence)",
                      kMaxMaskDocuments, total));
  }
}

}  // namespace

std::vector<std::int64_t> sample_lengths(const Distribution& dist, std::uint64_t seed, std::int64_t total) {
  Rng rng(seed);
  std::vector<std::int64_t> lengths;
  if (dist.kind != "mixture") {
    sample_into(dist, rng, total, lengths);
    return lengths;
  }
  std::int64_t left = total;
  for (std::size_t i = 0; i < dist.parts.size(); ++i) {
    const bool last = i + 1 == dist.parts.size();
    const std::int64_t tokens =
        last ? left
             : std::min(left,
                        static_cast<std::int64_t>(std::floor(dist.shares[i] * static_cast<double>(total))));
    sample_into(dist.parts[i], rng, tokens, lengths);
    left -= tokens;
  }
  // Fisher-Yates with the portable generator: the same order on every platform.
  for (std::size_t i = lengths.size(); i > 1; --i) std::swap(lengths[i - 1], lengths[rng.below(i)]);
  return lengths;
}

std::string default_histogram_for(std::int64_t seqlen) {
  if (seqlen <= 12 * 1024) return "pile";
  if (seqlen <= 64 * 1024) return "prolong64k";
  return "prolong512k";
}

const std::vector<DistributionInfo>& distribution_catalogue() {
  static const std::vector<DistributionInfo> catalogue = {
      {"pile", "seed", "document lengths of The Pile (LongCA-bench histogram, up to 12K)"},
      {"prolong64k", "seed", "document lengths of ProLong 64K data (LongCA-bench histogram)"},
      {"prolong512k", "seed", "document lengths of ProLong 512K data (LongCA-bench histogram)"},
      {"uniform", "min, max, seed", "lengths uniform in [min, max]"},
      {"fixed", "length", "every document `length` tokens (the last one truncated)"},
      {"mixture", "parts, seed",
       "a list of {share, distribution}: floor(share * S) tokens from each part but the last (which takes "
       "the rest), "
       "documents shuffled; "
       "e.g. LongCA-bench's long documents: {mixture: [{share: 0.4, distribution: pile}, "
       "{share: 0.6, distribution: {uniform: {min: 8192, max: 30720}}}]}"},
  };
  return catalogue;
}

}  // namespace attnbench::masks
