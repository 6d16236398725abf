// Duplicate-key detection for YAML documents: yaml-cpp keeps both entries and silently uses one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace attnbench {

// Walks every map of the tree (nested maps, maps inside lists) and throws InputError
// "FILE:LINE: FIELD: duplicate key (also on line N; a key may appear once per map)"
// for the first key that repeats. FIELD is the dotted path (shape.batch, masks[0].window).
void check_duplicate_keys(const YAML::Node& root, const std::string& path);

}  // namespace attnbench
