// Helpers of the Python bridge tests: run a scenario given as text, find rows.
#pragma once

#include <string>
#include <vector>

#include "harness/sweep.hpp"

namespace attnbench::test {

// The folder of the test modules; scenarios given as text resolve python:FILE from here.
std::string bridge_test_dir();

// Parses `yaml` as if it were a file in bridge_test_dir(), runs every case, returns the rows.
std::vector<ResultRow> run_scenario_text(const std::string& yaml);

}  // namespace attnbench::test
