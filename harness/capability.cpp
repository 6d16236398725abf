// Capability answers for a case (backend or strategy), and the expansion-time refusal of invalid ones.
#include "harness/capability.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "attnbench/registry.hpp"

namespace attnbench {

Support capability(const Case& c) {
  const Problem& p = c.problem;
  const Registry& reg = Registry::instance();
  const Backend* backend = reg.find_backend(c.backend);
  if (backend == nullptr) return Support::no("backend not registered: " + c.backend);
  if (p.strategy == "none") return backend->supports(p);
  const Strategy* strategy = reg.find_strategy(p.strategy);
  if (strategy == nullptr)
    return Support::no("strategy " + p.strategy + " needs the CP module, which is not built");
  const StrategyInfo info = strategy->info();
  for (const auto& [key, value] : p.options)
    if (std::find(info.parameters.begin(), info.parameters.end(), key) == info.parameters.end())
      return Support::invalid(fmt::format(
          "options.{}: '{}' is given, but strategy {} does not take option {} (accepted for {}: {})", key,
          value, p.strategy, key, p.strategy,
          info.parameters.empty() ? std::string("none") : fmt::to_string(fmt::join(info.parameters, ", "))));
  return strategy->supports(p, *backend);
}

void refuse_invalid(const Scenario& s, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    Support a;
    try {
      a = capability(c);
    } catch (...) {
      continue;  // a query that throws is the run's business: the case becomes an error row
    }
    if (a.is_invalid()) throw InputError(fmt::format("{}: {}", s.path, a.reason));
  }
}

}  // namespace attnbench
