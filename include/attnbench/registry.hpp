// The registry of backends and strategies: built-ins register at start-up, plugins when loaded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/strategy.hpp"

namespace attnbench {

class Registry {
 public:
  struct BackendEntry {
    std::shared_ptr<Backend> backend;
    std::string name;
    std::string origin;  // "built-in" or the plugin file
  };
  // Registers a backend on demand for a scenario entry "prefix:argument" (e.g.
  // "python:my_attn.py") and returns its registry name. `base_dir` is the folder
  // of the scenario file, for relative arguments. Throws InputError on bad input.
  using BackendResolver =
      std::function<std::string(const std::string& argument, const std::string& base_dir)>;
  struct StrategyEntry {
    std::shared_ptr<Strategy> strategy;
    std::string name;
    std::string origin;
  };

  static Registry& instance();

  // Throws InputError when the name is taken (a plugin must not shadow a built-in).
  void add_backend(std::shared_ptr<Backend>, const std::string& origin = "built-in");
  void add_strategy(std::shared_ptr<Strategy>, const std::string& origin = "built-in");

  const std::vector<BackendEntry>& backends() const { return backends_; }
  const std::vector<StrategyEntry>& strategies() const { return strategies_; }
  Backend* find_backend(const std::string& name) const;
  Strategy* find_strategy(const std::string& name) const;
  std::vector<std::string> backend_names() const;
  std::vector<std::string> strategy_names() const;

  // Resolvers by prefix (without the ':'); a second one for a prefix replaces the first.
  void add_backend_resolver(const std::string& prefix, BackendResolver);
  // The registry name for "prefix:argument" when a resolver owns the prefix; nullopt otherwise.
  std::optional<std::string> resolve_backend(const std::string& entry, const std::string& base_dir) const;
  std::vector<std::string> resolver_prefixes() const;

 private:
  std::vector<BackendEntry> backends_;
  std::vector<StrategyEntry> strategies_;
  std::vector<std::pair<std::string, BackendResolver>> resolvers_;
};

// Registers a built-in at static-initialisation time. Use in a .cpp of an
// OBJECT library (so the linker keeps it): ATTNBENCH_REGISTER_BACKEND(CpuFlash);
#define ATTNBENCH_CONCAT_INNER(a, b) a##b
#define ATTNBENCH_CONCAT(a, b) ATTNBENCH_CONCAT_INNER(a, b)
#define ATTNBENCH_REGISTER_BACKEND(Type)                                     \
  static const bool ATTNBENCH_CONCAT(attnbench_registered_, __LINE__) = [] { \
    ::attnbench::Registry::instance().add_backend(std::make_shared<Type>()); \
    return true;                                                             \
  }()
#define ATTNBENCH_REGISTER_STRATEGY(Type)                                     \
  static const bool ATTNBENCH_CONCAT(attnbench_registered_, __LINE__) = [] {  \
    ::attnbench::Registry::instance().add_strategy(std::make_shared<Type>()); \
    return true;                                                              \
  }()

}  // namespace attnbench
