// Loads backend plugins with dlopen(), checks their ABI version and registers their backends by file.
#include "harness/plugins.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "attnbench/types.hpp"

namespace fs = std::filesystem;

namespace attnbench {

namespace {

// Canonical paths of the plugins loaded in this process (a file is loaded once).
std::set<std::string>& loaded_files() {
  static std::set<std::string> files;
  return files;
}

std::vector<LoadedPlugin>& plugin_records() {
  static std::vector<LoadedPlugin> records;
  return records;
}

// FNV-1a over the file's bytes: not a security hash, an identity for "which build was this".
std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = 1469598103934665603ull;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
    if (!in) break;
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  const fs::path c = fs::canonical(path, ec);
  return ec ? path : c.string();
}

// Closes a handle unless released: a plugin that fails to register leaves nothing behind.
class DlHandle {
 public:
  explicit DlHandle(void* h) : h_(h) {}
  DlHandle(const DlHandle&) = delete;
  DlHandle& operator=(const DlHandle&) = delete;
  ~DlHandle() {
    if (h_ != nullptr) dlclose(h_);
  }
  void* get() const { return h_; }
  // Registered backends keep code of the library alive for the whole process.
  void release() { h_ = nullptr; }

 private:
  void* h_;
};

void* find_symbol(void* handle, const char* name) {
  dlerror();  // clear any stale error
  return dlsym(handle, name);
}

}  // namespace

void register_plugin_entries(const PluginRegistrar& reg, const std::string& origin) {
  const Registry& registry = Registry::instance();
  std::set<std::string> backend_names, strategy_names;
  for (const auto& b : reg.backends) {
    if (!b) throw InputError(fmt::format("plugin {}: registered a null backend", origin));
    const std::string name = b->info().name;
    if (name.empty()) throw InputError(fmt::format("plugin {}: a backend has an empty name", origin));
    for (const auto& e : registry.backends())
      if (e.name == name)
        throw InputError(
            fmt::format("plugin {}: backend name '{}' is already registered by {}", origin, name, e.origin));
    if (!backend_names.insert(name).second)
      throw InputError(fmt::format("plugin {}: backend name '{}' is registered twice", origin, name));
  }
  for (const auto& s : reg.strategies) {
    if (!s) throw InputError(fmt::format("plugin {}: registered a null strategy", origin));
    const std::string name = s->info().name;
    if (name.empty() || name == "none")
      throw InputError(fmt::format("plugin {}: strategy name '{}' is reserved", origin, name));
    for (const auto& e : registry.strategies())
      if (e.name == name)
        throw InputError(
            fmt::format("plugin {}: strategy name '{}' is already registered by {}", origin, name, e.origin));
    if (!strategy_names.insert(name).second)
      throw InputError(fmt::format("plugin {}: strategy name '{}' is registered twice", origin, name));
  }
  for (const auto& b : reg.backends) Registry::instance().add_backend(b, origin);
  for (const auto& s : reg.strategies) Registry::instance().add_strategy(s, origin);
}

LoadedPlugin load_plugin(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(fmt::format("plugin {}: file not found", path));
  if (fs::is_directory(path, ec))
    throw InputError(fmt::format("plugin {}: is a folder, expected a shared library (.so)", path));
  // A bare file name would make dlopen() search the library path instead of the folder.
  const std::string open_path = path.find('/') == std::string::npos ? "./" + path : path;

  // RTLD_NOW: a missing symbol (a plugin built against another attnbench) fails here, not mid-sweep.
  const std::size_t backends_before = Registry::instance().backends().size();
  const std::size_t strategies_before = Registry::instance().strategies().size();
  DlHandle handle(dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) {
    const char* why = dlerror();
    throw InputError(fmt::format("plugin {}: not a loadable plugin library: {}", path,
                                 why != nullptr ? why : "dlopen failed"));
  }
  // ATTNBENCH_REGISTER_BACKEND in a plugin registers while the library loads, as "built-in"
  // and past every check; the entries now point into the library, so it must stay loaded.
  if (Registry::instance().backends().size() != backends_before ||
      Registry::instance().strategies().size() != strategies_before) {
    handle.release();
    throw InputError(fmt::format(
        "plugin {}: registers backends while loading (ATTNBENCH_REGISTER_BACKEND is for built-ins; "
        "register with ATTNBENCH_PLUGIN from attnbench/plugin.hpp)",
        path));
  }

  auto abi_fn = reinterpret_cast<attnbench_plugin_abi_version_fn>(
      find_symbol(handle.get(), ATTNBENCH_PLUGIN_ABI_SYMBOL));
  if (abi_fn == nullptr)
    throw InputError(
        fmt::format("plugin {}: missing entry point {}() (define the entry points with ATTNBENCH_PLUGIN from "
                    "attnbench/plugin.hpp)",
                    path, ATTNBENCH_PLUGIN_ABI_SYMBOL));
  const int abi = abi_fn();
  if (abi != ATTNBENCH_ABI_VERSION)
    throw InputError(
        fmt::format("plugin {}: built for plugin ABI version {}, but this attnbench has ABI version {} "
                    "(rebuild the plugin against this attnbench's headers)",
                    path, abi, ATTNBENCH_ABI_VERSION));
  auto register_fn = reinterpret_cast<attnbench_plugin_register_fn>(
      find_symbol(handle.get(), ATTNBENCH_PLUGIN_REGISTER_SYMBOL));
  if (register_fn == nullptr)
    throw InputError(
        fmt::format("plugin {}: missing entry point {}() (define the entry points with ATTNBENCH_PLUGIN from "
                    "attnbench/plugin.hpp)",
                    path, ATTNBENCH_PLUGIN_REGISTER_SYMBOL));

  LoadedPlugin loaded{path, {}, {}};
  {
    // The registrar's objects have their code in the library: destroy them before any dlclose().
    PluginRegistrar reg;
    reg.registry = &Registry::instance();
    const int rc = register_fn(&reg, ATTNBENCH_ABI_VERSION);
    if (rc != 0)
      throw InputError(fmt::format("plugin {}: registration failed ({})", path,
                                   reg.error.empty() ? fmt::format("returned {}", rc) : reg.error));
    try {
      register_plugin_entries(reg, path);
      for (const auto& b : reg.backends) loaded.backends.push_back(b->info().name);
      for (const auto& s : reg.strategies) loaded.strategies.push_back(s->info().name);
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {  // e.g. a backend whose info() throws
      throw InputError(fmt::format("plugin {}: registration failed ({})", path, e.what()));
    } catch (...) {  // a type not derived from std::exception: still one clear line, never terminate
      throw InputError(
          fmt::format("plugin {}: registration failed (a non-standard exception was thrown)", path));
    }
  }
  handle.release();
  return loaded;
}

std::vector<std::string> expand_plugin_path(std::string_view list, std::string_view source) {
  std::vector<std::string> files;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(':', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string entry(list.substr(start, end - start));
    start = end + 1;
    if (entry.empty()) continue;  // "a::b" and a trailing ':' are harmless
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<std::string> found;
      for (const auto& f : fs::directory_iterator(entry, ec))
        if (f.path().extension() == ".so" && !f.is_directory()) found.push_back(f.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(entry, ec)) {
      files.push_back(entry);
    } else {
      throw InputError(fmt::format("{}: '{}' is neither a plugin file nor a folder", source, entry));
    }
  }
  return files;
}

std::vector<LoadedPlugin> load_plugins(const std::vector<std::string>& explicit_paths) {
  std::vector<std::string> files;
  if (const char* env = std::getenv("ATTNBENCH_PLUGIN_PATH"); env != nullptr)
    files = expand_plugin_path(env, "ATTNBENCH_PLUGIN_PATH");
  files.insert(files.end(), explicit_paths.begin(), explicit_paths.end());

  std::vector<LoadedPlugin> loaded;
  for (const auto& f : files) {
    const std::string key = canonical_or_same(f);
    if (loaded_files().count(key) != 0) continue;
    LoadedPlugin p = load_plugin(f);
    std::error_code ec;
    p.size_bytes = fs::file_size(f, ec);
    p.hash = file_hash(f);
    plugin_records().push_back(p);
    loaded.push_back(std::move(p));
    loaded_files().insert(key);
  }
  return loaded;
}

const std::vector<LoadedPlugin>& loaded_plugins() { return plugin_records(); }

std::string loaded_plugins_json() {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : plugin_records())
    a.push_back({{"path", canonical_or_same(p.path)},
                 {"backends", p.backends},
                 {"strategies", p.strategies},
                 {"size_bytes", p.size_bytes},
                 {"hash", p.hash}});
  return a.dump();
}

}  // namespace attnbench
