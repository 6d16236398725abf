// Per-sequence lengths of a batch and the packed/padded masks built from them (masks/batching.hpp).
#include "masks/batching.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"
#include "masks/library.hpp"
#include "masks/rng.hpp"

namespace attnbench::masks {

namespace {

// Uniform in (0, 1]: 53 random bits, never 0 (the log below).
double unit(Rng& rng) { return (static_cast<double>(rng.next() >> 11) + 1.0) * 0x1.0p-53; }

std::int64_t draw(const Distribution& d, Rng& rng) {
  if (d.kind == "uniform") return rng.between(d.min, d.max);
  if (d.kind == "fixed") return d.length;
  if (d.kind == "lognormal") {
    // Box-Muller: one standard normal per draw (the second one is dropped: every draw takes two words).
    const double u1 = unit(rng), u2 = unit(rng);  // in this order on every compiler
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    const double x = std::round(static_cast<double>(d.median) * std::exp(d.sigma * z));
    return std::clamp(static_cast<std::int64_t>(std::min(x, 1e15)), d.min, d.max);
  }
  const auto buckets = histogram_buckets(d.kind);
  std::int64_t weight_sum = 0;
  for (const auto& b : buckets) weight_sum += b.weight_ppm;
  if (weight_sum <= 0) throw std::logic_error("sample_count: unknown distribution " + d.kind);
  auto pick = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(weight_sum)));
  std::size_t i = 0;
  while (pick >= buckets[i].weight_ppm) pick -= buckets[i++].weight_ppm;
  return rng.between(std::max<std::int64_t>(buckets[i].lo, 1), buckets[i].hi - 1);
}

void require_base(const std::string& base) {
  const auto& ok = batching_base_masks();
  if (std::find(ok.begin(), ok.end(), base) == ok.end())
    throw InputError(fmt::format("batching: base mask '{}' cannot be applied per sequence (accepted: {})",
                                 base, fmt::join(ok, ", ")));
}

}  // namespace

std::vector<std::int64_t> sample_count(const Distribution& dist, std::uint64_t seed, std::int64_t count) {
  if (dist.kind == "mixture") throw std::logic_error("sample_count: a mixture has no per-draw law");
  Rng rng(seed);
  std::vector<std::int64_t> lengths;
  lengths.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) lengths.push_back(std::max<std::int64_t>(1, draw(dist, rng)));
  return lengths;
}

const std::vector<std::string>& batching_base_masks() {
  static const std::vector<std::string> names{"causal", "full"};
  return names;
}

std::string packed_mask_name(const std::string& base) {
  require_base(base);
  return base + "_document";
}

MaskPtr packed_mask(const std::string& base, const std::vector<std::int64_t>& lengths) {
  std::int64_t total = 0;
  for (auto l : lengths) total += l;
  return build_mask({packed_mask_name(base), {{"doc_lengths", fmt::format("[{}]", fmt::join(lengths, ","))}}},
                    total, total);
}

MaskPtr padded_sequence_mask(const std::string& base, std::int64_t s_max, std::int64_t len) {
  require_base(base);
  const bool causal = base == "causal";
  std::vector<Slice> slices;
  if (len > 0) slices.push_back({0, len, 0, len, causal ? SliceType::causal : SliceType::full});
  Mask::Predicate allowed = [len, causal](std::int64_t q, std::int64_t k) {
    return q < len && k < len && (!causal || k <= q);
  };
  return std::make_shared<const Mask>(base, s_max, s_max, ResolvedParams{{"length", std::to_string(len)}},
                                      std::move(slices), std::move(allowed));
}

MaskPtr padded_case_mask(const std::string& base, const std::vector<std::int64_t>& lengths) {
  require_base(base);
  const std::int64_t s_max = *std::max_element(lengths.begin(), lengths.end());
  const MaskPtr dense = build_mask({base, {}}, s_max, s_max);
  const std::vector<Slice> slices(dense->slices().begin(), dense->slices().end());
  return std::make_shared<const Mask>(
      base, s_max, s_max, ResolvedParams{{"lengths", fmt::format("[{}]", fmt::join(lengths, ","))}}, slices,
      [dense](std::int64_t q, std::int64_t k) { return dense->allowed(q, k); });
}

std::int64_t padded_area(const std::string& base, const std::vector<std::int64_t>& lengths) {
  const std::int64_t s_max = *std::max_element(lengths.begin(), lengths.end());
  return static_cast<std::int64_t>(lengths.size()) * mask_area({base, {}}, s_max, s_max);
}

}  // namespace attnbench::masks
