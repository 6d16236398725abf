// Random mask specifications: parameters drawn over their whole accepted range.
#include "random_specs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

namespace attnbench::test {

namespace {

std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

std::vector<std::int64_t> random_partition(std::mt19937_64& rng, std::int64_t total, std::int64_t max_part) {
  std::vector<std::int64_t> parts;
  while (total > 0) {
    const auto p = std::min(total, uniform(rng, 1, max_part));
    parts.push_back(p);
    total -= p;
  }
  return parts;
}

void add_documents(MaskSpec& spec, std::mt19937_64& rng, std::int64_t s) {
  spec.params["seed"] = std::to_string(uniform(rng, 0, 1000000));
  switch (uniform(rng, 0, 5)) {
    case 0:
      spec.params["doc_lengths"] =
          fmt::format("[{}]", fmt::join(random_partition(rng, s, std::max<std::int64_t>(1, s / 3)), ", "));
      break;
    case 1: spec.params["distribution"] = "pile"; break;
    case 2:
      spec.params["distribution"] =
          fmt::format("{{uniform: {{min: {}, max: {}}}}}", uniform(rng, 1, 20), uniform(rng, 20, 400));
      break;
    case 3: spec.params["distribution"] = fmt::format("fixed:{}", uniform(rng, 1, s)); break;
    case 4: {
      const auto share = uniform(rng, 1, 9);
      spec.params["distribution"] = fmt::format(
          "{{mixture: [{{share: 0.{}, distribution: pile}}, {{share: 0.{}, distribution: {{uniform: {{min: "
          "{}, max: {}}}}}}}]}}",
          share, 10 - share, uniform(rng, 1, 50), uniform(rng, 50, 800));
      break;
    }
    default: break;  // the default histogram for this length
  }
}

}  // namespace

RandomCase random_case(const std::string& name, std::mt19937_64& rng, std::int64_t max_seqlen) {
  RandomCase c;
  c.spec.name = name;
  const MaskInfo* info = find_mask_info(name);
  c.seqlen_q = uniform(rng, 1, max_seqlen);
  c.seqlen_k = info->allows_unequal_seqlens && uniform(rng, 0, 1) ? uniform(rng, 1, max_seqlen) : c.seqlen_q;
  const std::int64_t s = c.seqlen_q, sk = c.seqlen_k;
  auto& p = c.spec.params;
  auto keep = [&] { return fmt::format("{}", static_cast<double>(uniform(rng, 1, 1000)) / 1000.0); };
  if (name == "sliding_window" || name == "causal_sliding_window") {
    p["window"] = std::to_string(uniform(rng, 0, std::max(s, sk)));
  } else if (name == "full_document" || name == "causal_document" || name == "share_question" ||
             name == "causal_blockwise") {
    add_documents(c.spec, rng, s);
  } else if (name == "prefix_lm_causal") {
    p["prefix"] = std::to_string(uniform(rng, 0, sk));
  } else if (name == "prefix_lm_document") {
    add_documents(c.spec, rng, s);
    p["prefix"] = std::to_string(uniform(rng, 0, std::min<std::int64_t>(s, 300)));
  } else if (name == "global_sliding_window") {
    p["global"] = std::to_string(uniform(rng, 0, std::min<std::int64_t>(sk, 200)));
    p["window"] = std::to_string(uniform(rng, 0, std::max(s, sk) / 2));
  } else if (name == "streaming") {
    // Sinks and windows from none/one up to past the sequence.
    p["sink"] = std::to_string(uniform(rng, 0, std::max(s, sk) + 8));
    p["recent"] = std::to_string(uniform(rng, 1, std::max(s, sk) + 8));
  } else if (name == "block_causal_document") {
    const auto b = uniform(rng, 1, 64);
    p["block"] = std::to_string(b);
    if (uniform(rng, 0, 1)) {
      auto parts = random_partition(rng, s / b, 8);
      for (auto& x : parts) x *= b;
      if (s % b) parts.push_back(s % b);
      p["doc_lengths"] = fmt::format("[{}]", fmt::join(parts, ","));
    } else {
      p["seed"] = std::to_string(uniform(rng, 0, 1000000));
    }
  } else if (name == "block_sparse") {
    p["block"] = std::to_string(uniform(rng, 1, 200));
    p["keep"] = keep();
    p["seed"] = std::to_string(uniform(rng, 0, 1000000));
    if (uniform(rng, 0, 1)) p["diagonal"] = uniform(rng, 0, 1) ? "true" : "false";
    if (uniform(rng, 0, 1)) p["rounding"] = uniform(rng, 0, 1) ? "round" : "floor";
  } else if (name == "var_block_sparse") {
    const auto min_block = uniform(rng, 1, 60);
    p["min_block"] = std::to_string(min_block);
    p["avg_block"] = std::to_string(uniform(rng, min_block, 150));
    p["keep"] = keep();
    p["seed"] = std::to_string(uniform(rng, 0, 1000000));
    if (uniform(rng, 0, 1)) p["partition"] = uniform(rng, 0, 1) ? "shared" : "independent";
    if (uniform(rng, 0, 1)) p["blocks"] = uniform(rng, 0, 1) ? "random" : "fixed";
    if (uniform(rng, 0, 1)) p["diagonal"] = uniform(rng, 0, 1) ? "true" : "false";
    if (uniform(rng, 0, 1)) p["rounding"] = uniform(rng, 0, 1) ? "round" : "floor";
  } else if (name == "slices") {
    // Disjoint cells of a random grid, each a random slice type (or left out).
    auto cuts = [&](std::int64_t n) {
      std::vector<std::int64_t> c{0, n};
      for (int i = uniform(rng, 0, 4); i > 0; --i) c.push_back(uniform(rng, 0, n));
      std::sort(c.begin(), c.end());
      c.erase(std::unique(c.begin(), c.end()), c.end());
      return c;
    };
    const auto qc = cuts(s), kc = cuts(sk);
    const char* types[] = {"full", "causal", "inv_causal", "bicausal"};
    std::vector<std::string> items;
    for (std::size_t i = 0; i + 1 < qc.size(); ++i)
      for (std::size_t j = 0; j + 1 < kc.size(); ++j)
        if (uniform(rng, 0, 3) != 0)
          items.push_back(fmt::format("{{q: [{}, {}], k: [{}, {}], type: {}}}", qc[i], qc[i + 1], kc[j],
                                      kc[j + 1], types[uniform(rng, 0, 3)]));
    if (items.empty()) items.push_back(fmt::format("{{q: [0, {}], k: [0, {}]}}", s, sk));
    p["slices"] = fmt::format("[{}]", fmt::join(items, ", "));
  } else if (name == "per_head") {
    // Without the shape's heads the entry is its first group's geometry (a label): a random streaming
    // or sliding-window group first, so the label's mask differs from causal.
    const std::string first =
        uniform(rng, 0, 1) ? fmt::format("{{name: streaming, sink: {}, recent: {}}}", uniform(rng, 0, sk),
                                         uniform(rng, 1, sk))
                           : fmt::format("{{name: causal_sliding_window, window: {}}}", uniform(rng, 0, sk));
    p["groups"] = fmt::format("[{{mask: {}, fraction: {}}}, {{mask: causal}}]", first, keep());
  }
  return c;
}

}  // namespace attnbench::test
