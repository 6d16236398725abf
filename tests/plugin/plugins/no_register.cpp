// A plugin with the ABI version entry point but no register function.
#include <attnbench/plugin.hpp>

extern "C" ATTNBENCH_PLUGIN_EXPORT int attnbench_plugin_abi_version() { return ATTNBENCH_ABI_VERSION; }
