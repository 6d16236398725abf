// Capability answers for a case (backend or strategy), and the expansion-time refusal of invalid ones.
#include "harness/capability.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "harness/select/select.hpp"

namespace attnbench {

namespace {

Support backend_or_strategy_answer(const Case& c) {
  const Problem& p = c.problem;
  const Registry& reg = Registry::instance();
  const Backend* backend = reg.find_backend(c.backend);
  if (backend == nullptr) return Support::no("backend not registered: " + c.backend);
  if (p.strategy == "none") return backend->supports(p);
  const Strategy* strategy = reg.find_strategy(p.strategy);
  if (strategy == nullptr)
    return Support::no("strategy " + p.strategy + " needs the CP module, which is not built");
  return strategy->supports(p, *backend);
}

}  // namespace

Support capability(const Case& c) {
  const Support a = backend_or_strategy_answer(c);
  if (!a.ok || !is_dynamic(c.problem)) return a;
  // A dynamic mask runs as masks per (b, h): a backend (or strategy) without them cannot run it.
  Case probe = c;
  const Problem& p = c.problem;
  probe.problem.head_masks.assign(static_cast<std::size_t>(p.shape.batch * p.shape.heads_q), p.mask);
  Support b = backend_or_strategy_answer(probe);
  if (!b.ok) b.reason = "dynamic mask " + p.mask->name() + ": " + b.reason;
  return b;
}

// An option key is bad input when no strategy and no backend of the sweep takes it (a
// typo); a key that some take applies to those and is left alone by the others, so one
// `options` block can serve a sweep over several strategies and backends.
void refuse_unknown_options(const Scenario& s) {
  const Registry& reg = Registry::instance();
  std::vector<std::string> accepted;
  const auto accept = [&](const std::vector<std::string>& names) {
    for (const auto& name : names)
      if (std::find(accepted.begin(), accepted.end(), name) == accepted.end()) accepted.push_back(name);
  };
  for (const auto& name : s.strategies)
    if (const Strategy* st = reg.find_strategy(name); st != nullptr) accept(st->info().parameters);
  for (const auto& name : s.backends)
    if (const Backend* b = reg.find_backend(name); b != nullptr) accept(b->info().parameters);
  for (const auto& [key, values] : s.options)
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
      throw InputError(fmt::format(
          "{}: options.{}: '{}' is given, but no strategy or backend of this sweep takes option {} "
          "(accepted: {})",
          s.path, key, values.empty() ? std::string() : values.front(), key,
          accepted.empty() ? std::string("none") : fmt::to_string(fmt::join(accepted, ", "))));
}

void refuse_invalid(const Scenario& s, const std::vector<Case>& cases) {
  refuse_unknown_options(s);
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
