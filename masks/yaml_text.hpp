// A YAML node as one line of flow-style text: how nested mask parameters (a per_head group's params, a
// selector's base) and scenario values are written back as parameter text and in messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace attnbench::masks {

// Scalars as they are; maps and lists in flow style ({a: [1, 2]}).
std::string flow_text(const YAML::Node& n);

}  // namespace attnbench::masks
