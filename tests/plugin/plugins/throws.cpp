// A plugin whose register body throws (e.g. a missing resource): a load error naming the file.
#include <attnbench/plugin.hpp>

#include <stdexcept>

ATTNBENCH_PLUGIN(reg) { throw std::runtime_error("license file example.lic not found"); }
