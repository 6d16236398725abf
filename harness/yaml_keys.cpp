// Finds repeated keys by walking the parsed YAML tree with its marks (yaml-cpp does not report them).
#include "harness/yaml_keys.hpp"

#include <fmt/format.h>

#include <map>

#include "attnbench/types.hpp"

namespace attnbench {

namespace {

void walk(const YAML::Node& n, const std::string& field, const std::string& path) {
  if (n.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : n) walk(item, fmt::format("{}[{}]", field, i++), path);
    return;
  }
  if (!n.IsMap()) return;
  std::map<std::string, int> first_line;  // key -> its 1-based line
  for (const auto& kv : n) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
    const std::string name = field.empty() ? key : field + "." + key;
    const int line = kv.first.Mark().line + 1;
    if (auto [it, fresh] = first_line.emplace(key, line); !fresh)
      throw InputError(
          fmt::format("{}:{}: {}: duplicate key (also on line {}; a key may appear once per map)", path, line,
                      name, it->second));
    walk(kv.second, name, path);
  }
}

}  // namespace

void check_duplicate_keys(const YAML::Node& root, const std::string& path) { walk(root, "", path); }

}  // namespace attnbench
