// A plugin registering a fresh backend and one named like the built-in cpu.reference: refused whole.
#include <attnbench/plugin.hpp>

#include "test_backend.hpp"

ATTNBENCH_PLUGIN(reg) {
  reg.add_backend(std::make_shared<NamedTestBackend>("test.fresh_name"));
  reg.add_backend(std::make_shared<NamedTestBackend>("cpu.reference"));
}
