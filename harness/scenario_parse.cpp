// Scenario parsing: YAML (after --set overrides) -> Scenario, every field validated with file:line errors.
#include "harness/scenario.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "attnbench/registry.hpp"
#include "harness/axis_product.hpp"
#include "harness/scenario_inputs.hpp"
#include "harness/scenario_batching.hpp"
#include "harness/scenario_yaml.hpp"
#include "harness/yaml_keys.hpp"

namespace attnbench {

using namespace scenario_yaml;  // the field readers (scenario_yaml.hpp)

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative wildcard match with backtracking on the last '*'.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

// Parameters whose single value is itself a list: a list of lists is their sweep axis.
bool list_valued(const std::string& key) {
  return key == "doc_lengths" || key == "slices" || key == "groups";
}

void parse_masks(const Ctx& c, const YAML::Node& n, Scenario& s) {
  if (!n.IsDefined()) c.fail(n, "masks", "is required");
  for (const auto& m : items(n)) {
    MaskSpec base;
    NamedAxes axes;
    if (m.IsScalar()) {
      base.name = m.Scalar();
    } else if (m.IsMap()) {
      if (!m["name"]) c.fail(m, "masks", "each mask map needs a 'name'");
      base.name = scalar(c, m["name"], "masks.name");
      for (const auto& kv : m) {
        const std::string key = key_text(kv.first);
        if (key == "name") continue;
        const YAML::Node& v = kv.second;
        std::vector<std::string> values;
        const bool axis = v.IsSequence() && v.size() > 0 && (!list_valued(key) || v[0].IsSequence());
        if (axis)
          for (const auto& x : v) values.push_back(flow_text(x));
        else
          values.push_back(flow_text(v));
        axes.emplace_back(key, values);
      }
    } else {
      c.fail(m, "masks", "each entry is a mask name or a map with 'name' and parameters");
    }
    const MaskInfo* info = find_mask_info(base.name);
    if (info == nullptr)
      c.fail(m, "masks",
             fmt::format("unknown mask '{}' (accepted: {})", base.name, fmt::join(mask_names(), ", ")));
    for (const auto& [key, values] : axes) {
      bool known = false;
      for (const auto& p : info->params) known = known || p.name == key;
      if (!known) {
        std::vector<std::string> accepted;
        for (const auto& p : info->params) accepted.push_back(p.name);
        c.fail(
            m, "masks." + base.name,
            fmt::format("unknown parameter '{}' (accepted: {})", key,
                        accepted.empty() ? std::string("none") : fmt::to_string(fmt::join(accepted, ", "))));
      }
    }
    // Product over the list-valued parameters.
    for (auto& params : assignments(axes)) {
      MaskSpec spec = base;
      for (auto& [key, value] : params) spec.params[key] = std::move(value);
      // per_head groups are checked here, where the error can name the line.
      if (spec.name == "per_head") {
        try {
          per_head_groups(spec);
        } catch (const InputError& e) {
          c.fail(m, "masks", e.what());
        }
      }
      s.masks.push_back(std::move(spec));
    }
  }
  if (s.masks.empty()) c.fail(n, "masks", "must not be empty");
}

// `bias`: none, a name, a map {name, params...}, or a list of those (a sweep axis). Checked here
// against the bias names; parameters are checked when each case's bias is built (expand).
void parse_biases(const Ctx& c, const YAML::Node& n, Scenario& s) {
  s.biases.clear();
  for (const auto& b : items(n)) {
    BiasSpec spec;
    if (b.IsScalar()) {
      spec.name = b.Scalar();
    } else if (b.IsMap()) {
      if (!b["name"]) c.fail(b, "bias", "a bias map needs a 'name' (accepted: none, alibi, relpos)");
      spec.name = scalar(c, b["name"], "bias.name");
      for (const auto& kv : b) {
        const std::string key = key_text(kv.first);
        if (key != "name") spec.params[key] = flow_text(kv.second);
      }
    } else {
      c.fail(b, "bias", "each entry is a bias name or a map with 'name' and parameters");
    }
    try {
      build_bias(spec, 1, 1, 1, 0);  // names and parameters; the shape does not matter
    } catch (const InputError& e) {
      c.fail(b, "bias", e.what());
    }
    s.biases.push_back(std::move(spec));
  }
  if (s.biases.empty()) s.biases.push_back({"none", {}});
}

// Every node of an override's value, so that errors about them name the --set.
void collect(const YAML::Node& n, const std::string& assignment, Ctx& c) {
  c.from_set.emplace_back(n, assignment);
  if (n.IsSequence() || n.IsMap())
    for (const auto& x : n) {
      if (n.IsMap()) {
        collect(x.first, assignment, c);
        collect(x.second, assignment, c);
      } else {
        collect(x, assignment, c);
      }
    }
}

void apply_override(YAML::Node& root, const std::string& assignment, Ctx& c) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--set {}: expected key.path=value", assignment));
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("--set {}: value is not valid YAML: {}", assignment, e.msg));
  }
  check_duplicate_keys(value, "--set " + assignment);
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (key.back() == '.' || std::find(parts.begin(), parts.end(), "") != parts.end())
    throw InputError(
        fmt::format("--set {}: empty part in the key path '{}' (expected key.path=value)", assignment, key));
  // Walk with fresh handles: yaml-cpp's operator[] on a copied node aliases the tree.
  std::vector<YAML::Node> path{root};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = path.back()[parts[i]];
    if (!child.IsMap()) {
      path.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      child = path.back()[parts[i]];
      c.from_set.emplace_back(child, assignment);
    }
    path.push_back(child);
  }
  path.back()[parts.back()] = value;
  collect(value, assignment, c);
}

}  // namespace

namespace {

Scenario parse_fields(const std::string& text, const std::string& path,
                      const std::vector<std::string>& overrides) {
  Ctx c{path, {}};
  YAML::Node root;
  try {
    // LoadAll: a second document (after `---`) would otherwise be ignored without a word.
    const std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      throw InputError(fmt::format("{}:{}: a second YAML document (after '---'); a scenario is one document",
                                   path, docs[1].Mark().line + 1));
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::ParserException& e) {
    throw InputError(fmt::format("{}:{}: malformed YAML: {}", path, e.mark.line + 1, e.msg));
  }
  if (!root.IsDefined() || root.IsNull())
    throw InputError(
        fmt::format("{}: the scenario is empty (required fields: backends, masks, seqlens)", path));
  if (!root.IsMap())
    throw InputError(
        fmt::format("{}:{}: a scenario must be a YAML map of fields (got {}; required fields: backends, "
                    "masks, seqlens)",
                    path, root.Mark().line + 1, root.IsSequence() ? "a list" : "'" + root.Scalar() + "'"));
  check_duplicate_keys(root, path);  // yaml-cpp would silently keep one of the two
  for (const auto& o : overrides) apply_override(root, o, c);

  check_keys(c, root, "",
             {"name", "backends", "strategies", "world_sizes", "masks", "seqlens", "seqlens_k", "shape",
              "dtypes", "passes", "timing", "check", "memory_budget_gb", "seed", "softmax_scale", "options",
              "inputs", "bias", "batching"});
  Scenario s;
  s.path = path;
  s.text = text;
  for (const auto& o : overrides) s.text += "\n# --set " + o;
  s.name = root["name"] ? scalar(c, root["name"], "name") : "scenario";
  // The name is the default output folder, results/NAME: one plain folder name.
  if (s.name.empty() || s.name == "." || s.name == ".." || s.name.find_first_of("/\\") != std::string::npos)
    c.fail(root["name"], "name",
           fmt::format("'{}' is not usable as a folder name (accepted: a non-empty name "
                       "without '/' or '\\', e.g. my_sweep)",
                       s.name));

  // Backends: names or globs over the registry, order kept, duplicates dropped.
  const auto& reg = Registry::instance();
  if (!root["backends"]) c.fail(root, "backends", "is required");
  for (const auto& b : items(root["backends"])) {
    const std::string pat = scalar(c, b, "backends");
    // "prefix:argument" entries (e.g. python:my_attn.py) register a backend on demand.
    std::optional<std::string> resolved;
    try {
      resolved = reg.resolve_backend(pat, std::filesystem::path(path).parent_path().string());
    } catch (const InputError& e) {
      c.fail(b, "backends", e.what());
    }
    if (resolved) {
      if (std::find(s.backends.begin(), s.backends.end(), *resolved) == s.backends.end())
        s.backends.push_back(*resolved);
      continue;
    }
    bool matched = false;
    for (const auto& name : reg.backend_names())
      if (glob_match(pat, name)) {
        matched = true;
        if (std::find(s.backends.begin(), s.backends.end(), name) == s.backends.end())
          s.backends.push_back(name);
      }
    if (!matched) {
      auto accepted = reg.backend_names();
      for (const auto& prefix : reg.resolver_prefixes()) accepted.push_back(prefix + "FILE");
      c.fail(b, "backends",
             fmt::format("unknown backend '{}' (accepted: {})", pat, fmt::join(accepted, ", ")));
    }
  }
  if (s.backends.empty()) c.fail(root["backends"], "backends", "must not be empty");

  s.strategies = {"none"};
  if (root["strategies"]) {
    s.strategies.clear();
    for (const auto& n : items(root["strategies"])) {
      const std::string name = scalar(c, n, "strategies");
      if (name != "none" && reg.find_strategy(name) == nullptr) {
        auto accepted = reg.strategy_names();
        accepted.insert(accepted.begin(), "none");
        c.fail(n, "strategies",
               fmt::format("unknown strategy '{}' (accepted: {})", name, fmt::join(accepted, ", ")));
      }
      s.strategies.push_back(name);
    }
  }
  s.world_sizes = {1};
  if (root["world_sizes"]) {
    s.world_sizes.clear();
    for (auto v : int_list(c, root["world_sizes"], "world_sizes", 1, kMaxInt))
      s.world_sizes.push_back(static_cast<int>(v));
  }

  parse_masks(c, root["masks"], s);
  if (root["bias"]) parse_biases(c, root["bias"], s);
  parse_batching(c, root, s);  // sets the sequence lengths and batch itself
  if (!root["seqlens"] && !s.batching)
    c.fail(root, "seqlens", "is required (or batching: {lengths | distribution, layout})");
  // Past 2^31 tokens a mask's area would not be exact (docs/masks.md "Limits").
  if (root["seqlens"]) s.seqlens = int_list(c, root["seqlens"], "seqlens", 1, kMaxMaskSeqlen);
  if (root["seqlens_k"]) s.seqlens_k = int_list(c, root["seqlens_k"], "seqlens_k", 1, kMaxMaskSeqlen);

  const YAML::Node shape = root["shape"];
  s.batch = {1};
  s.heads_q = {8};
  s.heads_kv = {8};
  s.head_dim = {64};
  if (shape) {
    check_keys(c, shape, "shape",
               {"batch", "heads_q", "heads_kv", "heads_k", "heads_v", "head_dim", "head_dim_v"});
    if (shape["batch"]) s.batch = int_list(c, shape["batch"], "shape.batch", 1);
    if (shape["heads_q"]) s.heads_q = int_list(c, shape["heads_q"], "shape.heads_q", 1);
    // heads_k is heads_kv's precise name (the key heads); giving both would leave one of them unused.
    if (shape["heads_kv"] && shape["heads_k"])
      c.fail(
          shape["heads_k"], "shape.heads_k",
          "give heads_k or heads_kv, not both (heads_kv sets heads_k and, unless heads_v is given, heads_v)");
    if (shape["heads_kv"]) s.heads_kv = int_list(c, shape["heads_kv"], "shape.heads_kv", 1);
    if (shape["heads_k"]) s.heads_kv = int_list(c, shape["heads_k"], "shape.heads_k", 1);
    if (shape["heads_v"]) s.heads_v = int_list(c, shape["heads_v"], "shape.heads_v", 1);
    if (shape["head_dim"]) s.head_dim = int_list(c, shape["head_dim"], "shape.head_dim", 1);
    if (shape["head_dim_v"]) s.head_dim_v = int_list(c, shape["head_dim_v"], "shape.head_dim_v", 1);
    const char* k_field = shape["heads_k"] ? "heads_k" : "heads_kv";
    const auto divides = [&](const char* field, const std::vector<std::int64_t>& heads) {
      for (auto hq : s.heads_q)
        for (auto h : heads)
          if (hq % h != 0) {
            std::vector<std::int64_t> divisors;
            for (std::int64_t d = 1; d <= hq; ++d)
              if (hq % d == 0) divisors.push_back(d);
            c.fail(shape[field], fmt::format("shape.{}", field),
                   fmt::format("heads_q ({}) must be a multiple of {} ({}) (accepted: {})", hq, field, h,
                               fmt::join(divisors, ", ")));
          }
    };
    divides(k_field, s.heads_kv);
    divides("heads_v", s.heads_v);
  }

  s.dtypes = {DType::fp32};
  if (root["dtypes"]) {
    s.dtypes.clear();
    for (const auto& n : items(root["dtypes"])) {
      auto d = parse_dtype(scalar(c, n, "dtypes"));
      if (!d)
        c.fail(n, "dtypes",
               fmt::format("unknown dtype '{}' (accepted: {})", n.Scalar(), accepted_names<DType>()));
      s.dtypes.push_back(*d);
    }
  }
  s.passes = {Pass::fwd};
  if (root["passes"]) {
    s.passes.clear();
    for (const auto& n : items(root["passes"])) {
      auto p = parse_pass(scalar(c, n, "passes"));
      if (!p)
        c.fail(n, "passes",
               fmt::format("unknown pass '{}' (accepted: {})", n.Scalar(), accepted_names<Pass>()));
      s.passes.push_back(*p);
    }
  }

  if (const YAML::Node t = root["timing"]) {
    check_keys(c, t, "timing",
               {"warmup", "min_iters", "max_iters", "min_time_s", "max_noise_pct", "timeout_s", "metric"});
    if (t["warmup"]) s.timing.warmup = static_cast<int>(to_int(c, t["warmup"], "timing.warmup", 0, kMaxInt));
    if (t["min_iters"])
      s.timing.min_iters = static_cast<int>(to_int(c, t["min_iters"], "timing.min_iters", 1, kMaxInt));
    if (t["max_iters"])
      s.timing.max_iters = static_cast<int>(to_int(c, t["max_iters"], "timing.max_iters", 1, kMaxInt));
    if (t["min_time_s"]) s.timing.min_time_s = to_real(c, t["min_time_s"], "timing.min_time_s", -1e-300);
    if (t["max_noise_pct"])
      s.timing.max_noise_pct = to_real(c, t["max_noise_pct"], "timing.max_noise_pct", 0);
    if (t["timeout_s"]) s.timing.timeout_s = to_real(c, t["timeout_s"], "timing.timeout_s", 0);
    if (t["metric"]) {
      const std::string m = scalar(c, t["metric"], "timing.metric");
      if (m != "time" && m != "instructions")
        c.fail(t["metric"], "timing.metric",
               fmt::format("'{}' is not accepted (accepted: time, instructions)", m));
      s.timing.metric = m == "time" ? TimingMetric::time : TimingMetric::instructions;
    }
    if (s.timing.max_iters < s.timing.min_iters)
      c.fail(t, "timing.max_iters", fmt::format("must be >= min_iters ({})", s.timing.min_iters));
  }
  if (const YAML::Node k = root["check"]) {
    check_keys(c, k, "check", {"enabled", "max_seqlen", "tolerance_fwd", "tolerance_bwd"});
    if (k["enabled"]) s.check.enabled = to_bool(c, k["enabled"], "check.enabled");
    if (k["max_seqlen"]) s.check.max_seqlen = to_int(c, k["max_seqlen"], "check.max_seqlen", 0);
    if (k["tolerance_fwd"]) s.check.tolerance_fwd = to_real(c, k["tolerance_fwd"], "check.tolerance_fwd", 0);
    if (k["tolerance_bwd"]) s.check.tolerance_bwd = to_real(c, k["tolerance_bwd"], "check.tolerance_bwd", 0);
  }
  if (root["memory_budget_gb"])
    s.memory_budget_gb = to_real(c, root["memory_budget_gb"], "memory_budget_gb", 0);
  if (root["seed"]) s.seed = static_cast<std::uint64_t>(to_int(c, root["seed"], "seed", 0));
  if (root["inputs"]) parse_inputs(c, root["inputs"], s);
  if (root["softmax_scale"]) s.softmax_scale = to_real(c, root["softmax_scale"], "softmax_scale", 0);
  if (const YAML::Node o = root["options"]) {
    if (!o.IsMap()) c.fail(o, "options", "expected a map of option: value or [values]");
    for (const auto& kv : o) {
      std::vector<std::string> values;
      for (const auto& x : items(kv.second)) values.push_back(flow_text(x));
      s.options[key_text(kv.first)] = values;
    }
  }
  return s;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& path,
                        const std::vector<std::string>& overrides) {
  try {
    return parse_fields(text, path, overrides);
  } catch (
      const YAML::Exception& e) {  // a conversion the checks above did not foresee: still one line, exit 2
    throw InputError(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(
        fmt::format("{}: cannot open scenario file: it is a folder (expected a YAML file)", path));
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open scenario file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), path, overrides);
}

}  // namespace attnbench
