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
      throw InputError(
          fmt::format("{}: backend name '{}' is already registered by {}", origin, name, e.origin));
  backends_.push_back({std::move(backend), name, origin});
}

void Registry::add_strategy(std::shared_ptr<Strategy> strategy, const std::string& origin) {
  const std::string name = strategy->info().name;
  for (const auto& e : strategies_)
    if (e.name == name)
      throw InputError(
          fmt::format("{}: strategy name '{}' is already registered by {}", origin, name, e.origin));
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

void Registry::add_backend_resolver(const std::string& prefix, BackendResolver resolver) {
  for (auto& [p, r] : resolvers_)
    if (p == prefix) {
      r = std::move(resolver);
      return;
    }
  resolvers_.emplace_back(prefix, std::move(resolver));
}

std::optional<std::string> Registry::resolve_backend(const std::string& entry,
                                                     const std::string& base_dir) const {
  const auto colon = entry.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string prefix = entry.substr(0, colon);
  for (const auto& [p, r] : resolvers_)
    if (p == prefix) return r(entry.substr(colon + 1), base_dir);
  return std::nullopt;
}

std::vector<std::string> Registry::resolver_prefixes() const {
  std::vector<std::string> out;
  for (const auto& [p, r] : resolvers_) out.push_back(p + ":");
  return out;
}

}  // namespace attnbench
