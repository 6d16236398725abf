// Runs scenarios given as text through the real runner, for the Python bridge tests.
#include "tests/backends/python/bridge_test_util.hpp"

#include "harness/scenario.hpp"

namespace attnbench::test {

std::string bridge_test_dir() { return std::string(ATTNBENCH_SOURCE_DIR) + "/tests/backends/python"; }

std::vector<ResultRow> run_scenario_text(const std::string& yaml) {
  const Scenario s = parse_scenario(yaml, bridge_test_dir() + "/inline.yaml");
  RunOptions opt;
  opt.memory_budget_bytes = 4.0 * (1ull << 30);
  return run_cases(s, expand(s), opt);
}

}  // namespace attnbench::test
