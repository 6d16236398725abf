// Builders of the regular masks and the shared parameter helpers.
#include "masks/builders.hpp"

#include <fmt/format.h>

#include <charconv>

#include "attnbench/types.hpp"

namespace attnbench::masks {

namespace {

MaskPtr make_full(const MaskSpec&, std::int64_t sq, std::int64_t sk) {
  return std::make_shared<Mask>("full", sq, sk, std::vector<std::pair<std::string, std::string>>{},
                                std::vector<Slice>{{0, sq, 0, sk, SliceType::full}},
                                [](std::int64_t, std::int64_t) { return true; },
                                VarlenForm{{0, sq}, -1, -1});
}

MaskPtr make_causal(const MaskSpec&, std::int64_t sq, std::int64_t sk) {
  // Bottom-right aligned: k <= q + (Sk - Sq).
  const std::int64_t shift = sk - sq;
  std::optional<VarlenForm> varlen;
  if (sq == sk) varlen = VarlenForm{{0, sq}, -1, 0};
  return std::make_shared<Mask>("causal", sq, sk, std::vector<std::pair<std::string, std::string>>{},
                                std::vector<Slice>{{0, sq, 0, sk, SliceType::causal}},
                                [shift](std::int64_t q, std::int64_t k) { return k <= q + shift; },
                                varlen);
}

}  // namespace

std::vector<MaskInfo> all_mask_infos() {
  return {
      {"full", "regular", "always", {}, true},
      {"causal", "regular", "k <= q + (Sk - Sq)", {}, true},
  };
}

MaskPtr build(const MaskInfo& info, const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  if (info.name == "full") return make_full(spec, sq, sk);
  if (info.name == "causal") return make_causal(spec, sq, sk);
  throw InputError(fmt::format("mask '{}' has no builder", info.name));
}

std::int64_t int_param(const MaskSpec& spec, const std::string& key, std::int64_t fallback,
                       std::int64_t min, std::int64_t max) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  std::int64_t value = 0;
  const auto& text = it->second;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    throw InputError(fmt::format("mask '{}': parameter '{}' must be an integer in [{}, {}] (got '{}')",
                                 spec.name, key, min, max, text));
  if (value < min || value > max)
    throw InputError(fmt::format("mask '{}': parameter '{}' = {} is outside [{}, {}]", spec.name,
                                 key, value, min, max));
  return value;
}

double real_param(const MaskSpec& spec, const std::string& key, double fallback,
                  double min_exclusive, double max_inclusive) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw InputError(fmt::format("mask '{}': parameter '{}' must be a number in ({}, {}] (got '{}')",
                                 spec.name, key, min_exclusive, max_inclusive, it->second));
  }
  if (!(value > min_exclusive && value <= max_inclusive))
    throw InputError(fmt::format("mask '{}': parameter '{}' = {} is outside ({}, {}]", spec.name,
                                 key, value, min_exclusive, max_inclusive));
  return value;
}

}  // namespace attnbench::masks
