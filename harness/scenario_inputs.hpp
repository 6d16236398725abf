// The scenario's `inputs:` field (random or the MQAR probe): parsing with file:line errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include "harness/scenario.hpp"
#include "harness/scenario_yaml.hpp"

namespace attnbench {

// Fills s.inputs (one InputSpec per value of a `pairs` list); throws InputError naming the field.
void parse_inputs(const scenario_yaml::Ctx& c, const YAML::Node& n, Scenario& s);

}  // namespace attnbench
