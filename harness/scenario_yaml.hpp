// YAML field readers for scenario parsing: each checks one value and fails with "FILE:LINE: field: message"
// (or the --set that brought the value in), so every scenario error names where it came from.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "masks/yaml_text.hpp"

namespace attnbench::scenario_yaml {

// Error helper: "FILE:LINE: field: message", or "FILE: --set key=value: field: message" for a
// value that came from --set (its marks point into the one-line override, not the file).
struct Ctx {
  std::string path;
  std::vector<std::pair<YAML::Node, std::string>> from_set;  // every node an override brought in
  [[noreturn]] void fail(const YAML::Node& n, const std::string& field, const std::string& msg) const;
};

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();  // fields stored as int
constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

// A sequence's items; a single value as one item; nothing for null or undefined.
std::vector<YAML::Node> items(const YAML::Node& n);
// "a map", "a list" or "nothing": what a node is, for messages.
const char* kind_of(const YAML::Node& n);
std::string scalar(const Ctx& c, const YAML::Node& n, const std::string& field);
// A map key as text (a non-scalar key, `? [a, b]: 1`, as its YAML).
std::string key_text(const YAML::Node& k);
std::int64_t to_int(const Ctx& c, const YAML::Node& n, const std::string& field, std::int64_t min,
                    std::int64_t max = kNoMax);
double to_real(const Ctx& c, const YAML::Node& n, const std::string& field, double min_exclusive);
bool to_bool(const Ctx& c, const YAML::Node& n, const std::string& field);
// One integer or a list of them (a sweep axis); never empty.
std::vector<std::int64_t> int_list(const Ctx& c, const YAML::Node& n, const std::string& field,
                                   std::int64_t min, std::int64_t max = kNoMax);
// Every key of `map` must be in `accepted` (the message lists them).
void check_keys(const Ctx& c, const YAML::Node& map, const std::string& field,
                const std::vector<std::string>& accepted);
// A node as one line of flow-style YAML (scalars as they are): the mask library's.
using masks::flow_text;

}  // namespace attnbench::scenario_yaml
