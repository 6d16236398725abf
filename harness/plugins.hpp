// Loading backend plugins: `--plugin PATH.so` and ATTNBENCH_PLUGIN_PATH, with one clear error per bad file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attnbench/plugin.hpp"

namespace attnbench {

// What one loaded plugin added to the registry.
struct LoadedPlugin {
  std::string path;  // as given; also the `origin` of its registry entries
  std::vector<std::string> backends;
  std::vector<std::string> strategies;
  std::uintmax_t size_bytes = 0;  // the file's size when loaded
  std::string hash;               // "fnv1a64:<hex>" of the file's bytes, so a result names the exact build
};

// dlopen()s one plugin, checks its ABI version and registers what it declares.
// Throws InputError naming the file: not loadable (not a shared library, missing
// symbols), missing entry point, wrong ABI version, failed registration, or a
// backend/strategy name that is already registered.
LoadedPlugin load_plugin(const std::string& path);

// Adds a registrar's entries to the registry under `origin`, all or none:
// every name is checked (against the registry and within the registrar) before
// anything is added. Shared by every loader (shared libraries, language bridges).
void register_plugin_entries(const PluginRegistrar&, const std::string& origin);

// Expands a colon-separated list of plugin files and folders (a folder contributes
// its *.so files, sorted). `source` names the list in errors (e.g. ATTNBENCH_PLUGIN_PATH).
std::vector<std::string> expand_plugin_path(std::string_view list, std::string_view source);

// Loads ATTNBENCH_PLUGIN_PATH (if set) and then `explicit_paths` (--plugin), each
// file once (by canonical path); files already loaded in this process are skipped.
std::vector<LoadedPlugin> load_plugins(const std::vector<std::string>& explicit_paths);

// Every plugin loaded in this process so far, in load order (the run's JSON context lists them).
const std::vector<LoadedPlugin>& loaded_plugins();

// The loaded plugins as a JSON array of {path, backends, strategies, size_bytes, hash}.
std::string loaded_plugins_json();

}  // namespace attnbench
