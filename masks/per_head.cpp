// The per_head mask entry: groups of key heads with their own masks (DuoAttention's retrieval and
// streaming heads), the catalogue entry, and the per-query-head resolution the sweep uses.
#include "masks/per_head.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"
#include "masks/yaml_text.hpp"

namespace attnbench {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
  throw InputError(fmt::format("mask 'per_head': {}: {}", where, msg));
}

std::vector<std::string> group_mask_names() {
  std::vector<std::string> names;
  for (const auto& n : mask_names())
    if (n != "per_head") names.push_back(n);
  return names;
}

MaskSpec group_mask(const YAML::Node& m, const std::string& where) {
  MaskSpec spec;
  if (m.IsScalar()) {
    spec.name = m.Scalar();
  } else if (m.IsMap()) {
    if (!m["name"] || !m["name"].IsScalar()) fail(where, "a mask map needs a 'name'");
    spec.name = m["name"].Scalar();
    for (const auto& kv : m) {
      const std::string key = kv.first.Scalar();
      if (key != "name") spec.params[key] = masks::flow_text(kv.second);
    }
  } else {
    fail(where, "is a mask name or a map with 'name' and parameters");
  }
  if (spec.name == "per_head")
    fail(where, "per_head inside per_head is not accepted (groups take plain masks)");
  if (find_mask_info(spec.name) == nullptr)
    fail(where,
         fmt::format("unknown mask '{}' (accepted: {})", spec.name, fmt::join(group_mask_names(), ", ")));
  return spec;
}

// The resolved groups as JSON ([{"mask":..,"params":{..},"fraction":..,"heads_k":..}]), for the row's label.
std::string groups_json(const std::vector<PerHeadGroup>& groups, const std::vector<MaskPtr>& masks,
                        const std::vector<std::int64_t>* heads_k) {
  std::string s = "[";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    s += fmt::format("{}{{\"mask\":\"{}\",\"params\":{}", i > 0 ? "," : "", masks[i]->name(),
                     masks[i]->params_json());
    if (groups[i].fraction > 0) s += fmt::format(",\"fraction\":{}", masks::json_number(groups[i].fraction));
    if (heads_k != nullptr) s += fmt::format(",\"heads_k\":{}", (*heads_k)[i]);
    s += "}";
  }
  return s + "]";
}

// The row's mask: named per_head, the first group's geometry (only a label: backends read each head's
// mask through Problem::mask_for), and the groups in its parameters.
MaskPtr label_mask(const MaskPtr& first, std::int64_t sq, std::int64_t sk, std::string groups) {
  return std::make_shared<Mask>(
      "per_head", sq, sk, std::vector<std::pair<std::string, std::string>>{{"groups", std::move(groups)}},
      std::vector<Slice>(first->slices().begin(), first->slices().end()),
      [first](std::int64_t q, std::int64_t k) { return first->allowed(q, k); }, first->varlen());
}

}  // namespace

std::vector<PerHeadGroup> per_head_groups(const MaskSpec& spec) {
  for (const auto& [key, value] : spec.params)
    if (key != "groups") fail("parameters", fmt::format("unknown parameter '{}' (accepted: groups)", key));
  const auto node = masks::yaml_param(spec, "groups");
  if (!node || !node->IsSequence() || node->size() == 0)
    fail(
        "groups",
        "is required: a non-empty list of {mask: NAME or {name: NAME, ...}, fraction: F} (fraction in (0, 1] "
        "of the key heads; the last group takes the rest)");
  std::vector<PerHeadGroup> groups;
  double sum = 0;
  for (std::size_t i = 0; i < node->size(); ++i) {
    const YAML::Node g = (*node)[i];
    const std::string where = fmt::format("groups[{}]", i);
    if (!g.IsMap()) fail(where, "each group is a map {mask: ..., fraction: F}");
    for (const auto& kv : g) {
      const std::string key = kv.first.Scalar();
      // params and heads_k: the resolved form a row records (mask_params), so it rebuilds the same mask.
      if (key != "mask" && key != "fraction" && key != "params" && key != "heads_k")
        fail(where, fmt::format("unknown key '{}' (accepted: mask, fraction)", key));
    }
    if (!g["mask"]) fail(where, "needs a 'mask'");
    PerHeadGroup group;
    group.mask = group_mask(g["mask"], where + ".mask");
    if (g["params"] && g["params"].IsMap())
      for (const auto& kv : g["params"]) group.mask.params[kv.first.Scalar()] = masks::flow_text(kv.second);
    const bool last = i + 1 == node->size();
    if (g["fraction"]) {
      double f = 0;
      try {
        f = g["fraction"].as<double>();
      } catch (const YAML::Exception&) {
        fail(where + ".fraction",
             fmt::format("'{}' is not a number (accepted: (0, 1])", masks::flow_text(g["fraction"])));
      }
      if (!(f > 0 && f <= 1)) fail(where + ".fraction", fmt::format("{} is outside (0, 1]", f));
      group.fraction = f;
      sum += f;
    } else if (!last) {
      fail(where, "needs a 'fraction' in (0, 1] (only the last group may omit it: it takes the rest)");
    }
    groups.push_back(std::move(group));
  }
  if (sum > 1 + 1e-9) fail("groups", fmt::format("fractions sum to {:.4g} (accepted: at most 1)", sum));
  return groups;
}

std::vector<std::int64_t> per_head_counts(const std::vector<PerHeadGroup>& groups, std::int64_t heads_k) {
  std::vector<std::int64_t> counts;
  std::int64_t used = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::int64_t n = heads_k - used;  // the last group: the rest
    if (i + 1 < groups.size())
      n = std::min(
          n, static_cast<std::int64_t>(std::llround(groups[i].fraction * static_cast<double>(heads_k))));
    counts.push_back(n);
    used += n;
  }
  return counts;
}

PerHeadMasks build_per_head(const MaskSpec& spec, std::int64_t seqlen_q, std::int64_t seqlen_k,
                            std::int64_t heads_q, std::int64_t heads_k) {
  PerHeadMasks r;
  r.groups = per_head_groups(spec);
  r.heads_k = per_head_counts(r.groups, heads_k);
  for (const auto& g : r.groups) r.group_masks.push_back(build_mask(g.mask, seqlen_q, seqlen_k));
  r.label =
      label_mask(r.group_masks.front(), seqlen_q, seqlen_k, groups_json(r.groups, r.group_masks, &r.heads_k));
  const std::int64_t per_k = heads_k > 0 ? heads_q / heads_k : 1;
  for (std::int64_t h = 0; h < heads_q; ++h) {
    const std::int64_t kh = h / per_k;
    std::size_t g = 0;
    for (std::int64_t end = r.heads_k[0]; kh >= end && g + 1 < r.groups.size();) end += r.heads_k[++g];
    r.query_heads.push_back(r.group_masks[g]);
  }
  return r;
}

namespace masks {

namespace {
// Without the shape's key heads: the groups as given, the first group's geometry.
MaskPtr make_per_head(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const auto groups = per_head_groups(spec);
  std::vector<MaskPtr> built;
  for (const auto& g : groups) built.push_back(build_mask(g.mask, sq, sk));
  return label_mask(built.front(), sq, sk, groups_json(groups, built, nullptr));
}
}  // namespace

std::vector<MaskEntry> per_head_masks() {
  return {{{"per_head",
            "per-head",
            "groups of key heads in order, each with its own mask (query heads share their key head's)",
            {{"groups", "",
              "[{mask: NAME or {name: NAME, ...}, fraction: F}, ...]: F in (0, 1] of the key heads, rounded; "
              "the last group takes the rest"}},
            true},
           make_per_head}};
}

}  // namespace masks

}  // namespace attnbench
