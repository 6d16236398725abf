// Resolving the documents of a document mask: explicit lengths, or seeded sampling.
#include "masks/documents.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>
#include <map>

#include "attnbench/types.hpp"
#include "masks/distributions.hpp"
#include "masks/rng.hpp"

namespace attnbench::masks {

namespace {

constexpr const char* kAcceptedDistributions =
    "pile, prolong64k, prolong512k, {uniform: {min: A, max: B}}, {fixed: {length: N}}, "
    "{mixture: [{share: F, distribution: D}, ...]}";

Distribution parse_distribution_node(const MaskSpec& spec, const YAML::Node& node);

// {mixture: [{share, distribution}, ...]}: shares in (0, 1] summing to 1, parts not mixtures.
Distribution parse_mixture(const MaskSpec& spec, const YAML::Node& list) {
  const auto bad = [&](const std::string& why) {
    return InputError(fmt::format("mask '{}': parameter 'distribution' mixture {} (accepted: {})", spec.name,
                                  why, kAcceptedDistributions));
  };
  if (!list.IsSequence() || list.size() == 0) throw bad("needs a non-empty list of {share, distribution}");
  Distribution d;
  d.kind = "mixture";
  double sum = 0;
  for (const auto& item : list) {
    if (!item.IsMap() || !item["share"] || !item["distribution"] || item.size() != 2)
      throw bad("parts need exactly 'share' and 'distribution'");
    double share = 0;
    try {
      share = item["share"].as<double>();
    } catch (const YAML::Exception&) {
      throw bad("needs a number 'share'");
    }
    if (!(share > 0 && share <= 1)) throw bad(fmt::format("share {} is outside (0, 1]", share));
    Distribution part = parse_distribution_node(spec, item["distribution"]);
    if (part.kind == "mixture") throw bad("parts cannot be mixtures");
    d.parts.push_back(std::move(part));
    d.shares.push_back(share);
    sum += share;
  }
  if (std::abs(sum - 1.0) > 1e-9) throw bad(fmt::format("shares sum to {}, not 1", sum));
  return d;
}

std::int64_t node_int(const MaskSpec& spec, const YAML::Node& node, const std::string& what) {
  try {
    return node.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    throw InputError(fmt::format("mask '{}': parameter 'distribution' needs an integer '{}' (accepted: {})",
                                 spec.name, what, kAcceptedDistributions));
  }
}

// Accepts "pile", {uniform: {min, max}}, {fixed: {length}}, {name: uniform, min, max},
// and the command-line shorthands "uniform:MIN:MAX" and "fixed:LENGTH".
Distribution parse_distribution_node(const MaskSpec& spec, const YAML::Node& node) {
  Distribution d;
  std::map<std::string, YAML::Node> fields;
  if (node.IsScalar()) {
    const auto text = node.as<std::string>();
    std::vector<std::string> parts;
    std::size_t from = 0;
    while (true) {
      auto colon = text.find(':', from);
      parts.push_back(text.substr(from, colon - from));
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
    d.kind = parts[0];
    if (d.kind == "uniform" && parts.size() == 3) {
      fields["min"] = YAML::Load(parts[1]);
      fields["max"] = YAML::Load(parts[2]);
    } else if (d.kind == "fixed" && parts.size() == 2) {
      fields["length"] = YAML::Load(parts[1]);
    } else if (parts.size() != 1) {
      d.kind = text;
    }
  } else if (node.IsMap() && node["name"]) {
    d.kind = node["name"].as<std::string>();
    for (const auto& kv : node)
      if (kv.first.as<std::string>() != "name") fields[kv.first.as<std::string>()] = kv.second;
  } else if (node.IsMap() && node.size() == 1 && node["mixture"]) {
    return parse_mixture(spec, node["mixture"]);
  } else if (node.IsMap() && node.size() == 1) {
    // Copy the pair: yaml-cpp's iterator hands out a temporary.
    const auto entry = *node.begin();
    d.kind = entry.first.as<std::string>();
    const YAML::Node inner = entry.second;
    if (inner.IsMap())
      for (const auto& kv : inner) fields[kv.first.as<std::string>()] = kv.second;
  }
  const bool histogram = !histogram_buckets(d.kind).empty();
  if (!histogram && d.kind != "uniform" && d.kind != "fixed")
    throw InputError(fmt::format("mask '{}': parameter 'distribution' = '{}' is unknown (accepted: {})",
                                 spec.name, d.kind.empty() ? YAML::Dump(node) : d.kind,
                                 kAcceptedDistributions));
  if (d.kind == "uniform") {
    if (!fields.count("min") || !fields.count("max"))
      throw InputError(
          fmt::format("mask '{}': parameter 'distribution' uniform needs min and max (accepted: {})",
                      spec.name, kAcceptedDistributions));
    d.min = node_int(spec, fields["min"], "min");
    d.max = node_int(spec, fields["max"], "max");
    if (d.min < 1 || d.max < d.min)
      throw InputError(fmt::format(
          "mask '{}': parameter 'distribution' uniform needs 1 <= min <= max (got min {}, max {})", spec.name,
          d.min, d.max));
  } else if (d.kind == "fixed") {
    if (!fields.count("length"))
      throw InputError(fmt::format("mask '{}': parameter 'distribution' fixed needs a length (accepted: {})",
                                   spec.name, kAcceptedDistributions));
    d.length = node_int(spec, fields["length"], "length");
    if (d.length < 1)
      throw InputError(fmt::format("mask '{}': parameter 'distribution' fixed needs length >= 1 (got {})",
                                   spec.name, d.length));
  }
  return d;
}

Distribution parse_distribution(const MaskSpec& spec, const YAML::Node& node) {
  try {
    return parse_distribution_node(spec, node);
  } catch (const YAML::Exception&) {
    throw InputError(fmt::format("mask '{}': parameter 'distribution' is malformed (accepted: {})", spec.name,
                                 kAcceptedDistributions));
  }
}

std::vector<std::int64_t> parse_doc_lengths(const MaskSpec& spec, std::int64_t seqlen) {
  auto node = *yaml_param(spec, "doc_lengths");
  std::vector<std::int64_t> lengths;
  const auto bad = [&](const std::string& why) {
    return InputError(
        fmt::format("mask '{}': parameter 'doc_lengths' must be a list of positive integers summing to the "
                    "sequence length {} ({})",
                    spec.name, seqlen, why));
  };
  if (!node.IsSequence() || node.size() == 0) throw bad("got '" + spec.params.at("doc_lengths") + "'");
  std::int64_t sum = 0;
  for (const auto& item : node) {
    std::int64_t v = 0;
    try {
      v = item.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      throw bad("got '" + item.as<std::string>("?") + "'");
    }
    if (v < 1) throw bad(fmt::format("got {}", v));
    lengths.push_back(v);
    sum += v;
  }
  if (sum != seqlen) throw bad(fmt::format("they sum to {}", sum));
  return lengths;
}

Documents from_lengths(const std::vector<std::int64_t>& lengths) {
  Documents docs;
  docs.starts.push_back(0);
  for (auto l : lengths) docs.starts.push_back(docs.starts.back() + l);
  return docs;
}

}  // namespace

Documents resolve_documents(const MaskSpec& spec, std::int64_t seqlen) {
  const auto seed = seed_param(spec);
  std::vector<std::int64_t> lengths;
  Documents docs;
  if (spec.params.count("doc_lengths")) {
    lengths = parse_doc_lengths(spec, seqlen);
    docs = from_lengths(lengths);
    // A distribution and seed given beside the lengths (a recorded row) are checked and kept.
    if (auto node = yaml_param(spec, "distribution"))
      docs.params.emplace_back("distribution", parse_distribution(spec, *node).to_json());
    if (spec.params.count("seed")) docs.params.emplace_back("seed", std::to_string(seed));
  } else {
    Distribution dist{default_histogram_for(seqlen)};
    if (auto node = yaml_param(spec, "distribution")) dist = parse_distribution(spec, *node);
    lengths = sample_lengths(dist, seed, seqlen);
    docs = from_lengths(lengths);
    docs.params.emplace_back("distribution", dist.to_json());
    docs.params.emplace_back("seed", std::to_string(seed));
  }
  docs.params.emplace_back("doc_lengths", fmt::format("[{}]", fmt::join(lengths, ",")));
  return docs;
}

Documents resolve_block_documents(const MaskSpec& spec, std::int64_t seqlen, std::int64_t block) {
  std::vector<std::int64_t> lengths;
  ResolvedParams params;
  if (spec.params.count("doc_lengths")) {
    lengths = parse_doc_lengths(spec, seqlen);
    if (spec.params.count("seed")) params.emplace_back("seed", std::to_string(seed_param(spec)));
    for (std::size_t i = 0; i + 1 < lengths.size(); ++i)
      if (lengths[i] % block != 0)
        throw InputError(fmt::format(
            "mask '{}': parameter 'block' = {} cannot tile 'doc_lengths' (document {} has {} tokens; "
            "every document but the last must be a multiple of block)",
            spec.name, block, i, lengths[i]));
  } else {
    const auto seed = seed_param(spec);
    Rng rng(seed);
    std::int64_t filled = 0;
    while (filled < seqlen) {
      const std::int64_t length = std::min(rng.between(1, 8) * block, seqlen - filled);
      lengths.push_back(length);
      filled += length;
    }
    params.emplace_back("seed", std::to_string(seed));
  }
  Documents out = from_lengths(lengths);
  out.params = std::move(params);
  out.params.emplace_back("doc_lengths", fmt::format("[{}]", fmt::join(lengths, ",")));
  return out;
}

std::vector<MaskParamInfo> document_param_infos() {
  return {
      {"doc_lengths", "",
       "explicit document lengths (must sum to the sequence length; wins over distribution)"},
      {"distribution", "by length",
       "pile, prolong64k, prolong512k, {uniform: {min, max}}, {fixed: {length}}, "
       "{mixture: [{share, distribution}, ...]}; default: pile up to 12K, "
       "prolong64k up to 64K, prolong512k beyond"},
      {"seed", "0", "seed of the sampled lengths"},
  };
}

}  // namespace attnbench::masks
