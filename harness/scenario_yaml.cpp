// YAML field readers for scenario parsing (see scenario_yaml.hpp).
#include "harness/scenario_yaml.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "attnbench/types.hpp"

namespace attnbench::scenario_yaml {

void Ctx::fail(const YAML::Node& n, const std::string& field, const std::string& msg) const {
  for (const auto& [node, assignment] : from_set)
    if (n.is(node)) throw InputError(fmt::format("{}: --set {}: {}: {}", path, assignment, field, msg));
  const int line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
  if (line > 0) throw InputError(fmt::format("{}:{}: {}: {}", path, line, field, msg));
  throw InputError(fmt::format("{}: {}: {}", path, field, msg));
}

std::vector<YAML::Node> items(const YAML::Node& n) {
  std::vector<YAML::Node> out;
  if (n.IsSequence())
    for (const auto& x : n) out.push_back(x);
  else if (n.IsDefined() && !n.IsNull())
    out.push_back(n);
  return out;
}

const char* kind_of(const YAML::Node& n) {
  return n.IsMap() ? "a map" : n.IsSequence() ? "a list" : "nothing";
}

std::string scalar(const Ctx& c, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) c.fail(n, field, fmt::format("expected a single value, got {}", kind_of(n)));
  return n.Scalar();
}

std::string key_text(const YAML::Node& k) { return k.IsScalar() ? k.Scalar() : YAML::Dump(k); }

std::int64_t to_int(const Ctx& c, const YAML::Node& n, const std::string& field, std::int64_t min,
                    std::int64_t max) {
  if (!n.IsScalar()) c.fail(n, field, fmt::format("expected an integer, got {}", kind_of(n)));
  const std::string s = n.Scalar();
  std::int64_t v = 0;
  std::size_t used = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty()) c.fail(n, field, fmt::format("expected an integer, got '{}'", s));
  if (v < min) c.fail(n, field, fmt::format("must be >= {} (got {})", min, v));
  if (v > max) c.fail(n, field, fmt::format("{} is past the limit (accepted: {} to {})", v, min, max));
  return v;
}

double to_real(const Ctx& c, const YAML::Node& n, const std::string& field, double min_exclusive) {
  if (!n.IsScalar()) c.fail(n, field, fmt::format("expected a number, got {}", kind_of(n)));
  const std::string s = n.Scalar();
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(v))
    c.fail(n, field, fmt::format("expected a number, got '{}'", s));
  if (!(v > min_exclusive)) c.fail(n, field, fmt::format("must be > {} (got {})", min_exclusive, s));
  return v;
}

bool to_bool(const Ctx& c, const YAML::Node& n, const std::string& field) {
  const std::string s = scalar(c, n, field);
  if (s == "true" || s == "on" || s == "yes") return true;
  if (s == "false" || s == "off" || s == "no") return false;
  c.fail(n, field, fmt::format("expected true or false, got '{}'", s));
}

std::vector<std::int64_t> int_list(const Ctx& c, const YAML::Node& n, const std::string& field,
                                   std::int64_t min, std::int64_t max) {
  if (n.IsMap()) c.fail(n, field, "expected an integer or a list of integers, got a map");
  std::vector<std::int64_t> out;
  for (const auto& x : items(n)) out.push_back(to_int(c, x, field, min, max));
  if (out.empty()) c.fail(n, field, "must not be empty");
  return out;
}

void check_keys(const Ctx& c, const YAML::Node& map, const std::string& field,
                const std::vector<std::string>& accepted) {
  if (!map.IsMap()) c.fail(map, field, "expected a map");
  for (const auto& kv : map) {
    const std::string key = key_text(kv.first);
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
      c.fail(kv.first, field.empty() ? key : field + "." + key,
             fmt::format("unknown field (accepted: {})", fmt::join(accepted, ", ")));
  }
}

}  // namespace attnbench::scenario_yaml
