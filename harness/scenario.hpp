// The scenario file (DESIGN.md "Scenario file"): parsing and validation (scenario_parse.cpp), sweep expansion
// (scenario_expand.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "harness/scenario_batching.hpp"
#include "harness/timing.hpp"
#include "attnbench/bias.hpp"
#include "masks/library.hpp"
#include "masks/per_head.hpp"

namespace attnbench {

struct CheckConfig {
  bool enabled = true;
  std::int64_t max_seqlen = 4096;  // larger cases are timed but not checked
  double tolerance_fwd = 0;        // 0: per-dtype default
  double tolerance_bwd = 0;
};

// Where a case's Q, K, V come from (`inputs:` of the scenario): seeded normal values (`random`, the
// default), or the MQAR recall probe (Zoology, arXiv 2312.04927; harness/mqar.hpp): `pairs` key-value
// pairs over a vocabulary of `vocab` ids (keys from the first half, values from the second), `seed`.
struct InputSpec {
  std::string kind = "random";  // random, mqar
  std::int64_t pairs = 0, vocab = 0;
  std::uint64_t seed = 0;
  bool mqar() const { return kind == "mqar"; }
  // {"kind":"mqar","pairs":64,"seed":1,"vocab":8192} (the `inputs` column); "" for random inputs.
  std::string json() const;
};

struct Scenario {
  std::string name;
  std::string path;                     // file it came from (error messages, context)
  std::string text;                     // the YAML as given (after --set), recorded in the JSON context
  std::vector<std::string> backends;    // resolved registry names, in order
  std::vector<std::string> strategies;  // "none" or registered strategies
  std::vector<int> world_sizes;
  std::vector<MaskSpec> masks;                                   // list-valued parameters already expanded
  std::vector<BiasSpec> biases{{"none", {}}};                    // `bias`: a sweep axis, none by default
  std::vector<std::int64_t> seqlens, seqlens_k;                  // seqlens_k empty: Sk = Sq
  std::vector<std::int64_t> batch, heads_q, heads_kv, head_dim;  // heads_kv: the key heads (shape.heads_k)
  // Empty: each case's value heads are its key heads, its value head dim its head_dim.
  std::vector<std::int64_t> heads_v, head_dim_v;
  std::vector<DType> dtypes;
  std::vector<Pass> passes;
  std::vector<InputSpec> inputs{InputSpec{}};  // list-valued fields (pairs) already expanded
  // Strategy/backend options: each value list is a sweep axis (balance, ulysses_degree...).
  std::map<std::string, std::vector<std::string>> options;
  TimingConfig timing;
  CheckConfig check;
  double memory_budget_gb = 0;  // 0: a fraction of free memory
  std::uint64_t seed = 0;
  double softmax_scale = 0;  // 0: 1/sqrt(head_dim)
  // Sequences of their own lengths: replaces seqlens and shape.batch; its layouts are an axis.
  std::optional<BatchingSpec> batching;
};

// One point of the sweep, ready to run.
struct Case {
  std::size_t index = 0;
  std::string backend;
  Problem problem;
  std::size_t mask_index = 0;  // which scenario mask (cases sharing inputs and mask share a reference)
  InputSpec inputs;
  std::size_t bias_index = 0;    // which scenario bias (part of the reference's key, as the mask)
  std::string layout;            // batching: packed or padded; empty without batching
  std::int64_t padded_area = 0;  // batching: pairs a dense padded kernel computes
  std::string id() const;        // unique, filesystem-safe: used for --dump-tensors folders
  std::string label() const;     // human readable, for progress lines and --filter
};

// Parses a scenario file. `overrides` are `--set key.path=value` pairs applied
// before validation. Throws InputError: "FILE:LINE: field: message (accepted: ...)".
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const std::string& text, const std::string& path,
                        const std::vector<std::string>& overrides = {});

// The product of all axes, in an order that keeps cases with the same inputs
// adjacent (backends innermost). Builds every mask, so bad mask parameters fail here,
// and asks every case's capability: an invalid answer (a bad option or parameter)
// throws InputError "FILE: field: value ... (accepted: ...)".
std::vector<Case> expand(const Scenario&);

// Shell-style wildcard match (* and ?), used for backend globs and --filter.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace attnbench
