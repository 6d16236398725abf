// The plugin ABI: the two extern "C" entry points a shared library exports so `--plugin` can load its
// backends.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "attnbench/registry.hpp"
#include "attnbench/version.hpp"

namespace attnbench {

// What a plugin's register function fills in. The loader adds the collected
// backends and strategies to the registry only when every name is free (a
// plugin is loaded whole or not at all), with the plugin file as their origin.
struct PluginRegistrar {
  // Read-only view of what is registered so far (a plugin may wrap a built-in).
  const Registry* registry = nullptr;
  std::vector<std::shared_ptr<Backend>> backends;
  std::vector<std::shared_ptr<Strategy>> strategies;
  std::string error;  // set by ATTNBENCH_PLUGIN when the body throws

  void add_backend(std::shared_ptr<Backend> b) { backends.push_back(std::move(b)); }
  void add_strategy(std::shared_ptr<Strategy> s) { strategies.push_back(std::move(s)); }
};

}  // namespace attnbench

// Names the loader looks up with dlsym().
#define ATTNBENCH_PLUGIN_ABI_SYMBOL "attnbench_plugin_abi_version"
#define ATTNBENCH_PLUGIN_REGISTER_SYMBOL "attnbench_plugin_register"

// Plugins are built with hidden visibility (attnbench_add_plugin); the entry points must stay visible.
#define ATTNBENCH_PLUGIN_EXPORT __attribute__((visibility("default")))

extern "C" {
// Returns the ATTNBENCH_ABI_VERSION the plugin was compiled against. The loader
// calls it first and refuses the plugin on a mismatch, before touching any C++ type.
using attnbench_plugin_abi_version_fn = int (*)();
// Fills the registrar; returns 0 on success. `abi_version` is the loader's own
// ATTNBENCH_ABI_VERSION (a second guard for hand-written entry points).
using attnbench_plugin_register_fn = int (*)(attnbench::PluginRegistrar*, int abi_version);
}

// Defines both entry points; the braces that follow are the body of the
// register function, with `reg` (the name you pass) the PluginRegistrar:
//
//   ATTNBENCH_PLUGIN(reg) {
//     reg.add_backend(std::make_shared<MyBackend>());
//   }
//
// An exception thrown by the body becomes a load error naming the plugin file.
#define ATTNBENCH_PLUGIN(reg)                                                                               \
  static void attnbench_plugin_body(::attnbench::PluginRegistrar& reg);                                     \
  extern "C" ATTNBENCH_PLUGIN_EXPORT int attnbench_plugin_abi_version() { return ATTNBENCH_ABI_VERSION; }   \
  extern "C" ATTNBENCH_PLUGIN_EXPORT int attnbench_plugin_register(::attnbench::PluginRegistrar* registrar, \
                                                                   int abi_version) {                       \
    if (abi_version != ATTNBENCH_ABI_VERSION) return 2;                                                     \
    try {                                                                                                   \
      attnbench_plugin_body(*registrar);                                                                    \
      return 0;                                                                                             \
    } catch (const std::exception& e) {                                                                     \
      registrar->error = e.what();                                                                          \
    } catch (...) {                                                                                         \
      registrar->error = "unknown exception";                                                               \
    }                                                                                                       \
    return 1;                                                                                               \
  }                                                                                                         \
  static void attnbench_plugin_body(::attnbench::PluginRegistrar& reg)
