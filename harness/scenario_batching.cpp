// Parsing of the scenario's `batching` field and the packed/padded layouts of its cases.
#include "harness/scenario_batching.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "harness/scenario.hpp"
#include "masks/batching.hpp"
#include "masks/library.hpp"

namespace attnbench {

using namespace scenario_yaml;

namespace {

constexpr std::int64_t kMaxBatchCount = 65536;  // sequences in one batch; a bound against typos

const std::vector<std::string>& layout_names() {
  static const std::vector<std::string> names{"packed", "padded"};
  return names;
}

// The parameters each distribution takes besides name, seed and count.
std::vector<std::string> distribution_params(const std::string& name) {
  if (name == "uniform") return {"min", "max"};
  if (name == "fixed") return {"length"};
  if (name == "lognormal") return {"median", "sigma", "min", "max"};
  return {};  // histograms
}

constexpr const char* kDistributions =
    "pile, prolong64k, prolong512k, uniform {min, max}, fixed {length}, lognormal {median, sigma, min, max}";

masks::Distribution parse_distribution(const Ctx& c, const YAML::Node& n, std::uint64_t& seed,
                                       std::int64_t& count) {
  const std::string f = "batching.distribution";
  if (!n.IsMap())
    c.fail(n, f,
           fmt::format("expected a map {{name, seed, count, ...}}, got {} (accepted names: {})", kind_of(n),
                       kDistributions));
  if (!n["name"]) c.fail(n, f + ".name", fmt::format("is required (accepted: {})", kDistributions));
  masks::Distribution d;
  d.kind = scalar(c, n["name"], f + ".name");
  const bool histogram = !masks::histogram_buckets(d.kind).empty();
  if (!histogram && d.kind != "uniform" && d.kind != "fixed" && d.kind != "lognormal")
    c.fail(n["name"], f + ".name",
           fmt::format("unknown distribution '{}' (accepted: {})", d.kind, kDistributions));
  std::vector<std::string> keys{"name", "seed", "count"};
  for (const auto& p : distribution_params(d.kind)) keys.push_back(p);
  check_keys(c, n, f, keys);
  if (!n["count"]) c.fail(n, f + ".count", fmt::format("is required (accepted: 1 to {})", kMaxBatchCount));
  count = to_int(c, n["count"], f + ".count", 1, kMaxBatchCount);
  seed = n["seed"] ? static_cast<std::uint64_t>(to_int(c, n["seed"], f + ".seed", 0)) : 0;
  const auto need = [&](const char* key) {
    if (!n[key])
      c.fail(n, fmt::format("{}.{}", f, key),
             fmt::format("{} needs '{}' (accepted: {})", d.kind, key, kDistributions));
    return n[key];
  };
  const auto length = [&](const char* key) {
    return to_int(c, need(key), fmt::format("{}.{}", f, key), 1, kMaxMaskSeqlen);
  };
  if (d.kind == "uniform" || d.kind == "lognormal") {
    d.min = d.kind == "lognormal" && !n["min"] ? 1 : length("min");
    d.max = length("max");
    if (d.max < d.min)
      c.fail(n["max"], f + ".max", fmt::format("must be >= min ({}) (got {})", d.min, d.max));
  }
  if (d.kind == "fixed") d.length = length("length");
  if (d.kind == "lognormal") {
    d.median = length("median");
    d.sigma = to_real(c, need("sigma"), f + ".sigma", 0);
    if (d.sigma > 10)
      c.fail(n["sigma"], f + ".sigma", fmt::format("{} is past the limit (accepted: (0, 10])", d.sigma));
  }
  return d;
}

}  // namespace

void parse_batching(const Ctx& c, const YAML::Node& root, Scenario& s) {
  const YAML::Node b = root["batching"];
  if (!b) return;
  if (!b.IsMap())
    c.fail(b, "batching",
           fmt::format("expected a map {{lengths: [..] | distribution: {{..}}, layout: [..]}}, got {}",
                       kind_of(b)));
  check_keys(c, b, "batching", {"lengths", "distribution", "layout"});
  BatchingSpec spec;
  if (b["lengths"] && b["distribution"])
    c.fail(b["distribution"], "batching.distribution", "give lengths or distribution, not both");
  if (b["lengths"]) {
    if (!b["lengths"].IsSequence() || b["lengths"].size() == 0)
      c.fail(b["lengths"], "batching.lengths", "expected a non-empty list of sequence lengths >= 1");
    spec.lengths = int_list(c, b["lengths"], "batching.lengths", 1, kMaxMaskSeqlen);
    if (static_cast<std::int64_t>(spec.lengths.size()) > kMaxBatchCount)
      c.fail(b["lengths"], "batching.lengths",
             fmt::format("{} sequences is past the limit (accepted: 1 to {})", spec.lengths.size(),
                         kMaxBatchCount));
    spec.source = "lengths";
  } else if (b["distribution"]) {
    std::uint64_t seed = 0;
    std::int64_t count = 0;
    const masks::Distribution d = parse_distribution(c, b["distribution"], seed, count);
    spec.lengths = masks::sample_count(d, seed, count);
    spec.source = fmt::format(R"({{"distribution":{},"seed":{},"count":{}}})", d.to_json(), seed, count);
  } else {
    c.fail(b, "batching",
           "needs lengths or distribution (accepted: lengths: [..], distribution: {name, seed, count})");
  }
  std::int64_t total = 0;
  for (auto l : spec.lengths) total += l;
  if (total > kMaxMaskSeqlen)
    c.fail(b, "batching.lengths",
           fmt::format("the lengths sum to {}, past the limit of a packed sequence (accepted: up to {})",
                       total, kMaxMaskSeqlen));
  spec.layouts = layout_names();
  if (b["layout"]) {
    spec.layouts.clear();
    for (const auto& n : items(b["layout"])) {
      const std::string l = scalar(c, n, "batching.layout");
      if (std::find(layout_names().begin(), layout_names().end(), l) == layout_names().end())
        c.fail(n, "batching.layout",
               fmt::format("unknown layout '{}' (accepted: {})", l, fmt::join(layout_names(), ", ")));
      if (std::find(spec.layouts.begin(), spec.layouts.end(), l) == spec.layouts.end())
        spec.layouts.push_back(l);
    }
    if (spec.layouts.empty())
      c.fail(b["layout"], "batching.layout",
             fmt::format("must not be empty (accepted: {})", fmt::join(layout_names(), ", ")));
  }
  // The batch sets the sequence length and batch size of every case: a second source would be ignored.
  for (const char* field : {"seqlens", "seqlens_k"})
    if (root[field])
      c.fail(root[field], field,
             "is set by batching (S = the sum of the lengths packed, the longest padded); remove it");
  if (root["shape"] && root["shape"].IsMap() && root["shape"]["batch"])
    c.fail(root["shape"]["batch"], "shape.batch",
           "is set by batching (1 packed, the count padded); remove it");
  const auto& bases = masks::batching_base_masks();
  for (const auto& m : items(root["masks"])) {
    const std::string name = m.IsMap() && m["name"] ? m["name"].as<std::string>("")
                             : m.IsScalar()         ? m.Scalar()
                                                    : "";
    if (std::find(bases.begin(), bases.end(), name) == bases.end() || (m.IsMap() && m.size() > 1))
      c.fail(m, "masks",
             fmt::format(
                 "with batching each mask is a base applied per sequence; '{}' is not one (accepted: {})",
                 name, fmt::join(bases, ", ")));
  }
  s.batching = std::move(spec);
}

BatchLayout batch_layout(const BatchingSpec& spec, const std::string& layout, const std::string& base) {
  BatchLayout out;
  const auto& L = spec.lengths;
  out.padded_area = masks::padded_area(base, L);
  if (layout == "packed") {
    out.mask = masks::packed_mask(base, L);
    out.seqlen = out.mask->seqlen_q();
    return out;
  }
  out.batch = static_cast<std::int64_t>(L.size());
  out.mask = masks::padded_case_mask(base, L);
  out.seqlen = out.mask->seqlen_q();
  // Sequences of the same length share one mask object, so cpu.flash builds one plan for them.
  std::vector<std::pair<std::int64_t, MaskPtr>> made;
  for (auto len : L) {
    auto it = std::find_if(made.begin(), made.end(), [&](const auto& e) { return e.first == len; });
    if (it == made.end()) {
      made.emplace_back(len, masks::padded_sequence_mask(base, out.seqlen, len));
      it = made.end() - 1;
    }
    out.per_sequence.push_back(it->second);
  }
  return out;
}

std::vector<MaskPtr> head_masks_of(const BatchLayout& l, std::int64_t heads_q) {
  std::vector<MaskPtr> out;
  for (const auto& m : l.per_sequence)
    for (std::int64_t h = 0; h < heads_q; ++h) out.push_back(m);
  return out;
}

}  // namespace attnbench
