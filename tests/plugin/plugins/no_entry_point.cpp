// A shared library that is not an attnbench plugin: it exports a function, but neither entry point.
#include <attnbench/plugin.hpp>

extern "C" ATTNBENCH_PLUGIN_EXPORT int some_other_library_function() { return 42; }
