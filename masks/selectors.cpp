// The selector entries of the mask library: parameter checks, and the base mask a selector row is labelled
// by.
//
// A selector needs the case's Q and K, which the mask library never sees. Its library entry therefore
// builds the *base* mask under the selector's name and parameters: that is Problem::mask of a dynamic
// case (the `mask` column reads `topk_blocks`, `mask_params` its parameters with the base), and the
// harness (harness/select/) computes the selected per-(batch, head) masks from the inputs.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"
#include "masks/selector_spec.hpp"
#include "masks/yaml_text.hpp"

namespace attnbench {

namespace {

MaskSpec base_param(const MaskSpec& spec) {
  auto node = masks::yaml_param(spec, "base");
  if (!node) return MaskSpec{"causal", {}};
  MaskSpec base;
  if (node->IsScalar()) {
    base.name = node->Scalar();
  } else if (node->IsMap() && (*node)["name"] && (*node)["name"].IsScalar()) {
    for (const auto& kv : *node) {
      const auto key = kv.first.as<std::string>();
      if (key == "name")
        base.name = kv.second.Scalar();
      else
        base.params[key] = masks::flow_text(kv.second);
    }
  } else {
    throw InputError(
        fmt::format("mask '{}': parameter 'base' must be a mask name or a map with 'name' and "
                    "parameters (got '{}')",
                    spec.name, spec.params.at("base")));
  }
  if (is_selector(base.name))
    throw InputError(
        fmt::format("mask '{}': parameter 'base' = '{}' is a selector (accepted: a static mask: {})",
                    spec.name, base.name, "attnbench list masks"));
  if (find_mask_info(base.name) == nullptr)
    throw InputError(fmt::format("mask '{}': parameter 'base' = '{}' is not a mask (accepted: {})", spec.name,
                                 base.name, fmt::join(mask_names(), ", ")));
  return base;
}

constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;

// The resolved parameters the row records: the base (its name and resolved parameters) first.
masks::ResolvedParams resolved(const SelectorSpec& s, const Mask& base) {
  const std::string inner = base.params_json().substr(1, base.params_json().size() - 2);
  masks::ResolvedParams r;
  r.emplace_back("base", inner.empty() ? fmt::format("\"{}\"", base.name())
                                       : fmt::format("{{\"name\":\"{}\",{}}}", base.name(), inner));
  r.emplace_back("block", std::to_string(s.block));
  const auto quoted = [](const std::string& v) { return "\"" + v + "\""; };
  if (s.selector == "topk_blocks") {
    if (s.threshold > 0)
      r.emplace_back("threshold", masks::json_number(s.threshold));
    else
      r.emplace_back("keep", masks::json_number(s.keep));
    r.emplace_back("pool", quoted(s.pool));
    r.emplace_back("score", quoted(s.score));
  } else if (s.selector == "vertical_slash") {
    r.emplace_back("last_q", std::to_string(s.last_q));
    r.emplace_back("vertical", std::to_string(s.vertical));
    r.emplace_back("slash", std::to_string(s.slash));
  } else if (s.selector == "kmeans") {
    r.emplace_back("clusters", std::to_string(s.clusters));
    r.emplace_back("iters", std::to_string(s.iters));
    r.emplace_back("seed", std::to_string(s.seed));
  } else if (s.selector == "token_keep") {
    r.emplace_back("keep", masks::json_number(s.keep));
  } else if (s.selector == "recycled") {
    r.emplace_back("stride", std::to_string(s.stride));
    r.emplace_back("topk", std::to_string(s.topk));
  }
  return r;
}

MaskPtr make_selector(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const SelectorSpec s = parse_selector(spec);
  const MaskPtr base = build_mask(s.base, sq, sk);
  const std::vector<Slice> slices(base.get()->slices().begin(), base.get()->slices().end());
  return std::make_shared<Mask>(spec.name, sq, sk, resolved(s, *base), slices,
                                [base](std::int64_t q, std::int64_t k) { return base->allowed(q, k); });
}

MaskParamInfo base_info() {
  return {"base", "causal", "the static mask selected from: a name or {name: ..., parameters}"};
}
MaskParamInfo block_info(const char* what) { return {"block", "64", what}; }

}  // namespace

const std::vector<std::string>& selector_names() {
  static const std::vector<std::string> names{"topk_blocks", "vertical_slash", "kmeans", "token_keep",
                                              "recycled"};
  return names;
}

bool is_selector(const std::string& name) {
  for (const auto& n : selector_names())
    if (n == name) return true;
  return false;
}

SelectorSpec parse_selector(const MaskSpec& spec) {
  using masks::int_param;
  using masks::real_param;
  SelectorSpec s;
  s.selector = spec.name;
  s.base = base_param(spec);
  s.block = int_param(spec, "block", 64, 1, 1 << 20);
  if (spec.name == "topk_blocks") {
    if (spec.params.count("keep") != 0 && spec.params.count("threshold") != 0)
      throw InputError(
          fmt::format("mask '{}': give 'keep' or 'threshold', not both (accepted: keep in (0, 1] "
                      "or threshold in (0, 1])",
                      spec.name));
    s.keep = real_param(spec, "keep", 0.1, 0.0, 1.0);
    s.threshold = real_param(spec, "threshold", 0.0, 0.0, 1.0);
    s.pool = masks::choice_param(spec, "pool", "avg", {"avg", "maxminavg"});
    s.score = masks::choice_param(spec, "score", "pooled", {"pooled", "oracle"});
  } else if (spec.name == "vertical_slash") {
    s.last_q = int_param(spec, "last_q", 64, 1, kMaxCount);
    s.vertical = int_param(spec, "vertical", 64, 0, kMaxCount);
    s.slash = int_param(spec, "slash", 64, 0, kMaxCount);
  } else if (spec.name == "kmeans") {
    s.clusters = int_param(spec, "clusters", 16, 1, 1 << 16);
    s.iters = int_param(spec, "iters", 10, 0, 1000);
    s.seed = masks::seed_param(spec);
  } else if (spec.name == "token_keep") {
    s.keep = real_param(spec, "keep", 0.1, 0.0, 1.0);
  } else if (spec.name == "recycled") {
    s.stride = int_param(spec, "stride", 16, 1, kMaxCount);
    s.topk = int_param(spec, "topk", 64, 1, kMaxCount);
  }
  return s;
}

SelectorSpec selector_spec(const Mask& m) {
  MaskSpec spec{m.name(), {}};
  for (const auto& [k, v] : m.params()) spec.params[k] = v;
  return parse_selector(spec);
}

namespace masks {

std::vector<MaskEntry> selector_masks() {
  const char* diag = "diagonal block kept (rows x keys), bottom-right aligned";
  return {
      {{"topk_blocks",
        "dynamic",
        "base && key block among the query block's top blocks by pooled or exact score (SeerAttention, "
        "MInference block-sparse, Landmark)",
        {base_info(),
         block_info("selection block (query and key)"),
         {"keep", "0.1", "fraction of the query block's visible key blocks kept, (0, 1]"},
         {"threshold", "", "instead of keep: blocks whose normalised score >= threshold, (0, 1]"},
         {"pool", "avg", "K pooling: avg | maxminavg (Q: avg)"},
         {"score", "pooled", "pooled | oracle (exact block attention mass)"}},
        true},
       make_selector},
      {{"vertical_slash",
        "dynamic",
        "base && (top key column || top diagonal), estimated from the last last_q queries (MInference)",
        {base_info(),
         block_info(diag),
         {"last_q", "64", "queries that estimate the pattern"},
         {"vertical", "64", "key columns kept"},
         {"slash", "64", "diagonals kept"}},
        true},
       make_selector},
      {{"kmeans",
        "dynamic",
        "base && cluster(q) == cluster(k), spherical k-means over Q and K (Routing Transformer)",
        {base_info(),
         block_info(diag),
         {"clusters", "16", "clusters"},
         {"iters", "10", "k-means iterations"},
         {"seed", "0", "initial centroids"}},
        true},
       make_selector},
      {{"token_keep",
        "dynamic",
        "base && key among the keep fraction receiving most attention from block-pooled queries (ToDRE, "
        "Focus-DETR, EEVG)",
        {base_info(),
         block_info("query pooling block and diagonal block"),
         {"keep", "0.1", "fraction of keys kept"}},
        true},
       make_selector},
      {{"recycled",
        "dynamic",
        "of stride consecutive rows the first sees base, the rest its topk keys plus newer keys (Recycled "
        "Attention)",
        {base_info(),
         block_info(diag),
         {"stride", "16", "rows per full row"},
         {"topk", "64", "keys recycled"}},
        true},
       make_selector},
  };
}

}  // namespace masks
}  // namespace attnbench
