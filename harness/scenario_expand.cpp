// Sweep expansion: Scenario -> cases (the product of every axis, in a fixed order), labels and ids.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>

#include "attnbench/registry.hpp"
#include "harness/axis_product.hpp"
#include "harness/capability.hpp"
#include "harness/scenario.hpp"
#include "reports/case_label.hpp"

namespace attnbench {

namespace {
// "v16" when V's heads (or dim) differ from K's; nothing otherwise, so ids and labels of
// cases with K and V alike stay as they were.
std::string value_suffix(std::int64_t k, std::int64_t v) { return k == v ? "" : fmt::format("v{}", v); }

// The option names a backend reads (BackendInfo::parameters); none for an unregistered name.
std::vector<std::string> backend_parameters(const std::string& backend) {
  const Backend* b = Registry::instance().find_backend(backend);
  return b == nullptr ? std::vector<std::string>{} : b->info().parameters;
}

// A single-device case takes only its backend's options: of the option assignments that differ
// only in options it does not read, the first stands for all (one case, not copies of it).
bool first_of_its_kind(const std::vector<std::map<std::string, std::string>>& sets, std::size_t i,
                       const std::vector<std::string>& taken) {
  const auto reads = [&](const std::string& k) {
    return std::find(taken.begin(), taken.end(), k) != taken.end();
  };
  for (std::size_t j = 0; j < i; ++j) {
    bool same = true;
    for (const auto& [k, v] : sets[i])
      if (reads(k) && sets[j].at(k) != v) same = false;
    if (same) return false;
  }
  return true;
}

std::map<std::string, std::string> only_taken(const std::map<std::string, std::string>& set,
                                              const std::vector<std::string>& taken) {
  std::map<std::string, std::string> out;
  for (const auto& k : taken)
    if (auto it = set.find(k); it != set.end()) out.insert(*it);
  return out;
}
}  // namespace

std::string Case::id() const {
  const auto& p = problem;
  std::string id = fmt::format(
      "{:04d}-{}-{}-w{}-{}-q{}-k{}-b{}-h{}x{}{}-d{}{}-{}-{}", index, backend, p.strategy, p.world_size,
      p.mask ? p.mask->name() : "nomask", p.shape.seqlen_q, p.shape.seqlen_k, p.shape.batch, p.shape.heads_q,
      p.shape.heads_kv, value_suffix(p.shape.heads_kv, p.shape.value_heads()), p.shape.head_dim,
      value_suffix(p.shape.head_dim, p.shape.value_dim()), to_string(p.dtype), to_string(p.pass));
  if (inputs.mqar()) id += fmt::format("-mqar{}", inputs.pairs);
  if (p.bias) id += "-" + p.bias->name();
  for (char& ch : id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_')) ch = '_';
  return id;
}

std::string Case::label() const {
  const auto& p = problem;
  std::string s = backend;
  if (p.strategy != "none") s += fmt::format("/{}x{}", p.strategy, p.world_size);
  // The mask with its parameters (as compare labels it), so --filter can pick one variant:
  // cpu.flash/causal_sliding_window{window=256}/S=4096/...
  s += fmt::format("/{}/S={}", p.mask ? mask_label(p.mask->name(), p.mask->params_json()) : "",
                   p.shape.seqlen_q);
  if (p.shape.seqlen_k != p.shape.seqlen_q) s += fmt::format(",Sk={}", p.shape.seqlen_k);
  s +=
      fmt::format("/B{}H{}x{}{}D{}{}/{}/{}", p.shape.batch, p.shape.heads_q, p.shape.heads_kv,
                  value_suffix(p.shape.heads_kv, p.shape.value_heads()), p.shape.head_dim,
                  value_suffix(p.shape.head_dim, p.shape.value_dim()), to_string(p.dtype), to_string(p.pass));
  if (inputs.mqar()) s += fmt::format("/mqar{{pairs={}}}", inputs.pairs);
  if (p.bias) s += "/bias=" + p.bias->label();
  for (const auto& [k, v] : p.options) s += fmt::format("/{}={}", k, v);
  if (!layout.empty()) s += "/" + layout;
  return s;
}

std::vector<Case> expand(const Scenario& s) {
  // Option axes (only for CP strategies): every assignment of one value per option.
  NamedAxes option_axes(s.options.begin(), s.options.end());
  const std::vector<std::map<std::string, std::string>> option_sets = assignments(option_axes);

  // The axes in sweep order, outermost first. Masks sit inside the shape axes:
  // consecutive cases share one set of inputs (generating 16K-token inputs takes
  // seconds), and the masks are built once per (Sq, Sk); backends are innermost.
  enum Axis {
    kSq,
    kSk,
    kBatch,
    kHq,
    kHkv,
    kHv,
    kDim,
    kDv,
    kDtype,
    kInputs,
    kMask,
    kBias,
    kPass,
    kStrategy,
    kWorld,
    kOptions,
    kBackend
  };
  // With batching the layouts take the place of the sequence-length axis (each fixes S and B).
  const bool batched = s.batching.has_value();
  const std::vector<std::size_t> sizes{batched ? s.batching->layouts.size() : s.seqlens.size(),
                                       s.seqlens_k.empty() ? 1 : s.seqlens_k.size(),
                                       batched ? 1 : s.batch.size(),
                                       s.heads_q.size(),
                                       s.heads_kv.size(),
                                       std::max<std::size_t>(1, s.heads_v.size()),
                                       s.head_dim.size(),
                                       std::max<std::size_t>(1, s.head_dim_v.size()),
                                       s.dtypes.size(),
                                       s.inputs.size(),
                                       s.masks.size(),
                                       s.biases.size(),
                                       s.passes.size(),
                                       s.strategies.size(),
                                       s.world_sizes.size(),
                                       std::max<std::size_t>(1, option_sets.size()),
                                       s.backends.size()};

  std::vector<Case> cases;
  std::vector<MaskPtr> masks;
  std::vector<BatchLayout> layouts;  // batching: one per scenario mask, for the current layout
  std::pair<std::size_t, std::size_t> masks_for{SIZE_MAX, SIZE_MAX};  // the (Sq, Sk) indices built
  // per_head entries resolved for (mask index, Hq, Hk) at the current (Sq, Sk).
  std::map<std::tuple<std::size_t, std::int64_t, std::int64_t>, PerHeadMasks> per_head;
  // One bias per (bias entry, query heads, lengths): cases that differ in anything else share it (a
  // relpos table is Hq·(2·max_distance+1) doubles, kept for the whole sweep).
  std::map<std::tuple<std::size_t, std::int64_t, std::int64_t, std::int64_t>, BiasPtr> biases;
  for_each_point(sizes, [&](const std::vector<std::size_t>& at) {
    if (masks_for != std::pair{at[kSq], at[kSk]}) {
      masks.clear();
      layouts.clear();
      for (const auto& spec : s.masks) {
        try {
          if (batched) {
            layouts.push_back(batch_layout(*s.batching, s.batching->layouts[at[kSq]], spec.name));
            masks.push_back(layouts.back().mask);
          } else {
            const std::int64_t sq = s.seqlens[at[kSq]];
            masks.push_back(build_mask(spec, sq, s.seqlens_k.empty() ? sq : s.seqlens_k[at[kSk]]));
          }
        } catch (const InputError& e) {
          throw InputError(fmt::format("{}: masks: {}", s.path, e.what()));
        }
      }
      masks_for = {at[kSq], at[kSk]};
      per_head.clear();
    }
    const std::int64_t sq = masks[at[kMask]]->seqlen_q(), sk = masks[at[kMask]]->seqlen_k();
    const std::string& strat = s.strategies[at[kStrategy]];
    const int ws = s.world_sizes[at[kWorld]];
    // Single-device cases run at world size 1 and take their backend's options only.
    const std::vector<std::string> taken =
        strat == "none" ? backend_parameters(s.backends[at[kBackend]]) : std::vector<std::string>{};
    if (strat == "none" && ws != 1) return;
    if (strat == "none" && !option_sets.empty() && !first_of_its_kind(option_sets, at[kOptions], taken))
      return;
    if (strat != "none" && at[kOptions] >= option_sets.size()) return;  // an option with no values
    const std::int64_t d = s.head_dim[at[kDim]];
    Case c;
    c.index = cases.size();
    c.backend = s.backends[at[kBackend]];
    c.mask_index = at[kMask];
    c.inputs = s.inputs[at[kInputs]];
    Problem& p = c.problem;
    p.shape = {batched ? layouts[at[kMask]].batch : s.batch[at[kBatch]],
               s.heads_q[at[kHq]],
               s.heads_kv[at[kHkv]],
               sq,
               sk,
               d};
    // Unset value heads and dim follow the key heads and head_dim; set explicitly in every case.
    p.shape.heads_v = s.heads_v.empty() ? p.shape.heads_kv : s.heads_v[at[kHv]];
    p.shape.head_dim_v = s.head_dim_v.empty() ? d : s.head_dim_v[at[kDv]];
    p.dtype = s.dtypes[at[kDtype]];
    p.pass = s.passes[at[kPass]];
    p.mask = masks[at[kMask]];
    if (s.masks[at[kMask]].name == "per_head") {  // DESIGN.md "Masks per head": groups of key heads
      const auto key = std::tuple{at[kMask], p.shape.heads_q, p.shape.heads_kv};
      auto it = per_head.find(key);
      if (it == per_head.end())
        it = per_head
                 .emplace(key, build_per_head(s.masks[at[kMask]], sq, sk, p.shape.heads_q, p.shape.heads_kv))
                 .first;
      p.mask = it->second.label;
      for (std::int64_t b = 0; b < p.shape.batch; ++b)
        p.head_masks.insert(p.head_masks.end(), it->second.query_heads.begin(), it->second.query_heads.end());
    }
    c.bias_index = at[kBias];
    if (batched) {
      const BatchLayout& l = layouts[at[kMask]];
      c.layout = s.batching->layouts[at[kSq]];
      c.padded_area = l.padded_area;
      p.head_masks = head_masks_of(l, p.shape.heads_q);  // padded: one mask per sequence
    }
    p.softmax_scale = s.softmax_scale > 0 ? s.softmax_scale : 1.0 / std::sqrt(static_cast<double>(d));
    p.seed = s.seed;
    const auto bias_key = std::tuple{at[kBias], p.shape.heads_q, sq, sk};
    auto bias = biases.find(bias_key);
    if (bias == biases.end()) {
      try {
        bias =
            biases.emplace(bias_key, build_bias(s.biases[at[kBias]], p.shape.heads_q, sq, sk, s.seed)).first;
      } catch (const InputError& e) {
        throw InputError(fmt::format("{}: bias: {}", s.path, e.what()));
      }
    }
    p.bias = bias->second;
    p.strategy = strat;
    p.world_size = ws;
    if (strat != "none") p.options = option_sets[at[kOptions]];
    if (strat == "none" && !option_sets.empty()) p.options = only_taken(option_sets[at[kOptions]], taken);
    cases.push_back(std::move(c));
  });
  // Capability answers that say the case itself is wrong (a bad option or
  // parameter) refuse the whole sweep now, before anything runs (also --dry-run).
  refuse_invalid(s, cases);
  return cases;
}

}  // namespace attnbench
