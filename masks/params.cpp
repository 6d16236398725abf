// Parameter access for mask builders: typed values, defaults and one-line range errors.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <limits>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"

namespace attnbench::masks {

std::int64_t int_param(const MaskSpec& spec, const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  std::int64_t value = 0;
  const auto& text = it->second;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    throw InputError(fmt::format("mask '{}': parameter '{}' must be an integer in [{}, {}] (got '{}')",
                                 spec.name, key, min, max, text));
  if (value < min || value > max)
    throw InputError(
        fmt::format("mask '{}': parameter '{}' = {} is outside [{}, {}]", spec.name, key, value, min, max));
  return value;
}

double real_param(const MaskSpec& spec, const std::string& key, double fallback, double min_exclusive,
                  double max_inclusive) {
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
    throw InputError(fmt::format("mask '{}': parameter '{}' = {} is outside ({}, {}]", spec.name, key, value,
                                 min_exclusive, max_inclusive));
  return value;
}

std::optional<YAML::Node> yaml_param(const MaskSpec& spec, const std::string& key) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return std::nullopt;
  try {
    return YAML::Load(it->second);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("mask '{}': parameter '{}' is not valid YAML ({}): '{}'", spec.name, key,
                                 e.msg, it->second));
  }
}

std::string choice_param(const MaskSpec& spec, const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& accepted) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  // A value recorded in a result row comes back JSON-quoted ("floor"): accept it unquoted.
  std::string value = it->second;
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  for (const auto& a : accepted)
    if (value == a) return value;
  throw InputError(fmt::format("mask '{}': parameter '{}' = '{}' is not accepted (accepted: {})", spec.name,
                               key, it->second, fmt::join(accepted, ", ")));
}

std::uint64_t seed_param(const MaskSpec& spec) {
  return static_cast<std::uint64_t>(int_param(spec, "seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
}

std::string json_number(double value) { return fmt::format("{}", value); }

}  // namespace attnbench::masks
