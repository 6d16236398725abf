// A plugin compiled "against" a newer ABI: its version entry point answers ATTNBENCH_ABI_VERSION + 1.
#include <attnbench/plugin.hpp>

#include "test_backend.hpp"

extern "C" ATTNBENCH_PLUGIN_EXPORT int attnbench_plugin_abi_version() { return ATTNBENCH_ABI_VERSION + 1; }

// Never reached: the loader must refuse the plugin before calling this.
extern "C" ATTNBENCH_PLUGIN_EXPORT int attnbench_plugin_register(attnbench::PluginRegistrar* reg, int) {
  reg->add_backend(std::make_shared<NamedTestBackend>("test.wrong_abi"));
  return 0;
}
