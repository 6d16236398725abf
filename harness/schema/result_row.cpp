// Lookups on a result row.
#include "harness/schema/result_row.hpp"

#include <cmath>

namespace attnbench {

std::int64_t shape_extra(const ResultRow& r, const std::string& name, std::int64_t fallback) {
  const Metric* m = r.find_extra(name);
  return m != nullptr && std::isfinite(m->value) ? std::llround(m->value) : fallback;
}
std::int64_t row_heads_k(const ResultRow& r) { return shape_extra(r, "heads_k", r.heads_kv); }
std::int64_t row_heads_v(const ResultRow& r) { return shape_extra(r, "heads_v", r.heads_kv); }
std::int64_t row_head_dim_v(const ResultRow& r) { return shape_extra(r, "head_dim_v", r.head_dim); }

const Metric* ResultRow::find_extra(const std::string& name) const {
  for (const auto& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

double ResultRow::extra_value(const std::string& name) const {
  const Metric* m = find_extra(name);
  return m == nullptr || !m->text.empty() ? nan : m->value;
}

Metric* ResultRow::find_extra(const std::string& name) {
  for (auto& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace attnbench
