// The one error line a scenario text gives when it is parsed and expanded ("" when it is accepted), for
// the tests of scenario fields and their validation.
#pragma once

#include <string>
#include <vector>

#include "attnbench/types.hpp"
#include "harness/scenario.hpp"

namespace attnbench::test {

// `sets`: --set overrides, as the CLI passes them.
inline std::string expand_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    expand(parse_scenario(text, "scen.yaml", sets));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace attnbench::test
