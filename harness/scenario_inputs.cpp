// Parses `inputs:` of a scenario (see scenario_inputs.hpp) and writes an InputSpec's `inputs` column.
#include "harness/scenario_inputs.hpp"

#include <fmt/format.h>

namespace attnbench {

using namespace scenario_yaml;

std::string InputSpec::json() const {
  if (!mqar()) return "";
  return fmt::format("{{\"kind\":\"mqar\",\"pairs\":{},\"seed\":{},\"vocab\":{}}}", pairs, seed, vocab);
}

// `inputs: {kind: random}` (the default) or `{kind: mqar, pairs: 64 | [4, 16, 64], vocab: 8192, seed: 1}`;
// a list of pairs is a sweep axis.
void parse_inputs(const Ctx& c, const YAML::Node& n, Scenario& s) {
  if (!n.IsMap()) c.fail(n, "inputs", "expected a map {kind: random} or {kind: mqar, pairs, vocab, seed}");
  check_keys(c, n, "inputs", {"kind", "pairs", "vocab", "seed"});
  InputSpec base;
  if (n["kind"]) base.kind = scalar(c, n["kind"], "inputs.kind");
  if (base.kind != "random" && base.kind != "mqar")
    c.fail(n["kind"], "inputs.kind", fmt::format("'{}' is not accepted (accepted: random, mqar)", base.kind));
  if (!base.mqar()) {
    for (const char* key : {"pairs", "vocab", "seed"})
      if (n[key])
        c.fail(n[key], fmt::format("inputs.{}", key), "is a parameter of kind mqar only (accepted: kind)");
    s.inputs = {base};
    return;
  }
  if (!n["pairs"])
    c.fail(n, "inputs.pairs", "is required for kind mqar (accepted: an integer >= 1, or a list)");
  // The codebook of value ids is decoded whole for every probe: a vocabulary of at most 2^16 ids.
  base.vocab = n["vocab"] ? to_int(c, n["vocab"], "inputs.vocab", 4, 1 << 16) : 8192;
  if (n["seed"]) base.seed = static_cast<std::uint64_t>(to_int(c, n["seed"], "inputs.seed", 0));
  s.inputs.clear();
  for (std::int64_t pairs : int_list(c, n["pairs"], "inputs.pairs", 1)) {
    // Keys are distinct ids of the vocabulary's first half.
    if (pairs > base.vocab / 2)
      c.fail(
          n["pairs"], "inputs.pairs",
          fmt::format("{} pairs need distinct keys from vocab / 2 = {} ids (accepted: 1 to {}, or a larger "
                      "vocab)",
                      pairs, base.vocab / 2, base.vocab / 2));
    InputSpec spec = base;
    spec.pairs = pairs;
    s.inputs.push_back(spec);
  }
}

}  // namespace attnbench
