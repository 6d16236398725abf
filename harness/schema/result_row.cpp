// Lookups on a result row.
#include "harness/schema/result_row.hpp"

namespace attnbench {

const Metric* ResultRow::find_extra(const std::string& name) const {
  for (const auto& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

Metric* ResultRow::find_extra(const std::string& name) {
  for (auto& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace attnbench
