// The process-wide registry of backends and strategies.
#include "attnbench/registry.hpp"

#include <fmt/format.h>

namespace attnbench {

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

void Registry::add_backend(std::shared_ptr<Backend> backend, const std::string& origin) {
  const std::string name = backend->info().name;
  for (const auto& e : backends_)
    if (e.name == name)
      throw InputError(fmt::format("{}: backend name '{}' is already registered by {}", origin,
                                   name, e.origin));
  backends_.push_back({std::move(backend), name, origin});
}

void Registry::add_strategy(std::shared_ptr<Strategy> strategy, const std::string& origin) {
  const std::string name = strategy->info().name;
  for (const auto& e : strategies_)
    if (e.name == name)
      throw InputError(fmt::format("{}: strategy name '{}' is already registered by {}", origin,
                                   name, e.origin));
  strategies_.push_back({std::move(strategy), name, origin});
}

Backend* Registry::find_backend(const std::string& name) const {
  for (const auto& e : backends_)
    if (e.name == name) return e.backend.get();
  return nullptr;
}

Strategy* Registry::find_strategy(const std::string& name) const {
  for (const auto& e : strategies_)
    if (e.name == name) return e.strategy.get();
  return nullptr;
}

std::vector<std::string> Registry::backend_names() const {
  std::vector<std::string> names;
  for (const auto& e : backends_) names.push_back(e.name);
  return names;
}

std::vector<std::string> Registry::strategy_names() const {
  std::vector<std::string> names;
  for (const auto& e : strategies_) names.push_back(e.name);
  return names;
}

}  // namespace attnbench
