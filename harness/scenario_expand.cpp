// Sweep expansion: Scenario -> cases (the product of every axis, in a fixed order), labels and ids.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "harness/axis_product.hpp"
#include "harness/capability.hpp"
#include "harness/scenario.hpp"

namespace attnbench {

std::string Case::id() const {
  const auto& p = problem;
  std::string id = fmt::format("{:04d}-{}-{}-w{}-{}-q{}-k{}-b{}-h{}x{}-d{}-{}-{}", index, backend, p.strategy,
                               p.world_size, p.mask ? p.mask->name() : "nomask", p.shape.seqlen_q,
                               p.shape.seqlen_k, p.shape.batch, p.shape.heads_q, p.shape.heads_kv,
                               p.shape.head_dim, to_string(p.dtype), to_string(p.pass));
  for (char& ch : id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_')) ch = '_';
  return id;
}

std::string Case::label() const {
  const auto& p = problem;
  std::string s = backend;
  if (p.strategy != "none") s += fmt::format("/{}x{}", p.strategy, p.world_size);
  s += fmt::format("/{}/S={}", p.mask ? p.mask->name() : "", p.shape.seqlen_q);
  if (p.shape.seqlen_k != p.shape.seqlen_q) s += fmt::format(",Sk={}", p.shape.seqlen_k);
  s += fmt::format("/B{}H{}x{}D{}/{}/{}", p.shape.batch, p.shape.heads_q, p.shape.heads_kv, p.shape.head_dim,
                   to_string(p.dtype), to_string(p.pass));
  for (const auto& [k, v] : p.options) s += fmt::format("/{}={}", k, v);
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
    kDim,
    kDtype,
    kMask,
    kPass,
    kStrategy,
    kWorld,
    kOptions,
    kBackend
  };
  const std::vector<std::size_t> sizes{s.seqlens.size(),     s.seqlens_k.empty() ? 1 : s.seqlens_k.size(),
                                       s.batch.size(),       s.heads_q.size(),
                                       s.heads_kv.size(),    s.head_dim.size(),
                                       s.dtypes.size(),      s.masks.size(),
                                       s.passes.size(),      s.strategies.size(),
                                       s.world_sizes.size(), std::max<std::size_t>(1, option_sets.size()),
                                       s.backends.size()};

  std::vector<Case> cases;
  std::vector<MaskPtr> masks;
  std::pair<std::size_t, std::size_t> masks_for{SIZE_MAX, SIZE_MAX};  // the (Sq, Sk) indices built
  for_each_point(sizes, [&](const std::vector<std::size_t>& at) {
    const std::int64_t sq = s.seqlens[at[kSq]];
    const std::int64_t sk = s.seqlens_k.empty() ? sq : s.seqlens_k[at[kSk]];
    if (masks_for != std::pair{at[kSq], at[kSk]}) {
      masks.clear();
      for (const auto& spec : s.masks) {
        try {
          masks.push_back(build_mask(spec, sq, sk));
        } catch (const InputError& e) {
          throw InputError(fmt::format("{}: masks: {}", s.path, e.what()));
        }
      }
      masks_for = {at[kSq], at[kSk]};
    }
    const std::string& strat = s.strategies[at[kStrategy]];
    const int ws = s.world_sizes[at[kWorld]];
    // Single-device cases run at world size 1 and take no options.
    if (strat == "none" && (ws != 1 || at[kOptions] != 0)) return;
    if (strat != "none" && at[kOptions] >= option_sets.size()) return;  // an option with no values
    const std::int64_t d = s.head_dim[at[kDim]];
    Case c;
    c.index = cases.size();
    c.backend = s.backends[at[kBackend]];
    c.mask_index = at[kMask];
    Problem& p = c.problem;
    p.shape = {s.batch[at[kBatch]], s.heads_q[at[kHq]], s.heads_kv[at[kHkv]], sq, sk, d};
    p.dtype = s.dtypes[at[kDtype]];
    p.pass = s.passes[at[kPass]];
    p.mask = masks[at[kMask]];
    p.softmax_scale = s.softmax_scale > 0 ? s.softmax_scale : 1.0 / std::sqrt(static_cast<double>(d));
    p.seed = s.seed;
    p.strategy = strat;
    p.world_size = ws;
    if (strat != "none") p.options = option_sets[at[kOptions]];
    cases.push_back(std::move(c));
  });
  // Capability answers that say the case itself is wrong (a bad option or
  // parameter) refuse the whole sweep now, before anything runs (also --dry-run).
  refuse_invalid(s, cases);
  return cases;
}

}  // namespace attnbench
