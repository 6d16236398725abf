// The `slices` mask: a user-defined union of non-overlapping MagiAttention-style slices.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"

namespace attnbench::masks {

namespace {

constexpr const char* kForm =
    "a list of {q: [begin, end], k: [begin, end], type: full|causal|inv_causal|bicausal}";

InputError slice_error(const MaskSpec& spec, std::size_t index, const std::string& why) {
  return InputError(
      fmt::format("mask '{}': parameter 'slices' item {}: {} (accepted: {})", spec.name, index, why, kForm));
}

std::pair<std::int64_t, std::int64_t> parse_range(const MaskSpec& spec, std::size_t index,
                                                  const YAML::Node& item, const char* axis,
                                                  std::int64_t limit) {
  const YAML::Node node = item[axis];
  std::int64_t b = 0, e = 0;
  try {
    if (!node || !node.IsSequence() || node.size() != 2) throw YAML::Exception({}, "shape");
    b = node[0].as<std::int64_t>();
    e = node[1].as<std::int64_t>();
  } catch (const YAML::Exception&) {
    throw slice_error(spec, index, fmt::format("'{}' must be [begin, end]", axis));
  }
  if (b < 0 || b >= e || e > limit)
    throw slice_error(spec, index,
                      fmt::format("'{}' = [{}, {}) must satisfy 0 <= begin < end <= {}", axis, b, e, limit));
  return {b, e};
}

// Whether the allowed sets of two slices share a pair: rows in both, ranges intersecting.
bool overlap(const Slice& a, const Slice& b) {
  const std::int64_t r0 = std::max(a.q_begin, b.q_begin), r1 = std::min(a.q_end, b.q_end);
  if (r0 >= r1 || std::max(a.k_begin, b.k_begin) >= std::min(a.k_end, b.k_end)) return false;
  for (std::int64_t q = r0; q < r1; ++q) {
    const auto ra = a.row_range(q), rb = b.row_range(q);
    if (std::max(ra.first, rb.first) < std::min(ra.second, rb.second)) return true;
  }
  return false;
}

// Direct reading of the SliceType definitions in mask.hpp, independent of Slice::row_range.
bool slice_allows(const Slice& s, std::int64_t q, std::int64_t k) {
  if (q < s.q_begin || q >= s.q_end || k < s.k_begin || k >= s.k_end) return false;
  const std::int64_t i = q - s.q_begin, j = k - s.k_begin;
  const std::int64_t nq = s.q_end - s.q_begin, nk = s.k_end - s.k_begin;
  const bool causal = j <= i + (nk - nq), inv_causal = j >= i;
  switch (s.type) {
    case SliceType::full: return true;
    case SliceType::causal: return causal;
    case SliceType::inv_causal: return inv_causal;
    case SliceType::bicausal: return causal && inv_causal;
  }
  return false;
}

MaskPtr make_slices(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  auto node = yaml_param(spec, "slices");
  if (!node || !node->IsSequence() || node->size() == 0)
    throw InputError(fmt::format("mask '{}': parameter 'slices' is required: {}", spec.name, kForm));
  std::vector<Slice> slices;
  for (std::size_t i = 0; i < node->size(); ++i) {
    const YAML::Node item = (*node)[i];
    if (!item.IsMap()) throw slice_error(spec, i, "not a map");
    for (const auto& kv : item) {
      const auto key = kv.first.as<std::string>();
      if (key != "q" && key != "k" && key != "type") throw slice_error(spec, i, "unknown key '" + key + "'");
    }
    Slice s;
    std::tie(s.q_begin, s.q_end) = parse_range(spec, i, item, "q", sq);
    std::tie(s.k_begin, s.k_end) = parse_range(spec, i, item, "k", sk);
    if (item["type"]) {
      auto type = parse_slice_type(item["type"].as<std::string>(""));
      if (!type) throw slice_error(spec, i, "unknown type '" + item["type"].as<std::string>("") + "'");
      s.type = *type;
    }
    slices.push_back(s);
  }
  for (std::size_t i = 0; i < slices.size(); ++i)
    for (std::size_t j = i + 1; j < slices.size(); ++j)
      if (overlap(slices[i], slices[j]))
        throw InputError(
            fmt::format("mask '{}': parameter 'slices' items {} and {} overlap (slices must be disjoint)",
                        spec.name, i, j));

  std::string json = "[";
  for (const auto& s : slices)
    json += fmt::format(R"({}{{"q":[{},{}],"k":[{},{}],"type":"{}"}})", json.size() > 1 ? "," : "", s.q_begin,
                        s.q_end, s.k_begin, s.k_end, to_string(s.type));
  json += "]";
  auto kept = std::make_shared<const std::vector<Slice>>(slices);
  return std::make_shared<Mask>(spec.name, sq, sk, ResolvedParams{{"slices", json}}, std::move(slices),
                                [kept](std::int64_t q, std::int64_t k) {
                                  for (const auto& s : *kept)
                                    if (slice_allows(s, q, k)) return true;
                                  return false;
                                });
}

}  // namespace

std::vector<MaskEntry> user_slice_masks() {
  return {
      {{"slices",
        "user",
        "union of the slices (MagiAttention's AttnSlice types)",
        {{"slices", "", std::string(kForm) + "; end exclusive; slices must not overlap"}},
        true},
       make_slices},
  };
}

}  // namespace attnbench::masks
