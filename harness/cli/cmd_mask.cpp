// The `mask` verb: build one mask from the command line and report it as text or JSON, or dump it.
#include "harness/cli/cmd_mask.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "attnbench/types.hpp"
#include "harness/inputs.hpp"
#include "harness/npy.hpp"
#include "harness/select/select.hpp"
#include "masks/library.hpp"
#include "masks/selector_spec.hpp"
#include "masks/per_head.hpp"

namespace attnbench {

namespace {

// Dense dumps beyond this many cells (2 GiB of bytes) are refused rather than attempted.
constexpr std::int64_t kMaxDumpCells = std::int64_t{1} << 31;

// "key=value" items of a repeatable option (--param, --bias-param) as a map.
std::map<std::string, std::string> key_values(const MaskCommandOptions& o,
                                              const std::vector<std::string>& items, const char* flag) {
  std::map<std::string, std::string> out;
  for (const auto& kv : items) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("mask '{}': {} '{}' must be key=value", o.name, flag, kv));
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

MaskSpec spec_from(const MaskCommandOptions& o) { return {o.name, key_values(o, o.params, "--param")}; }

std::string json_report(const Mask& m) {
  nlohmann::ordered_json j;
  j["name"] = m.name();
  j["seqlen_q"] = m.seqlen_q();
  j["seqlen_k"] = m.seqlen_k();
  j["area"] = m.area();
  j["density"] = m.density();
  j["params"] = nlohmann::ordered_json::parse(m.params_json());
  auto slices = nlohmann::ordered_json::array();
  for (const auto& s : m.slices())
    slices.push_back({{"q", {s.q_begin, s.q_end}}, {"k", {s.k_begin, s.k_end}}, {"type", to_string(s.type)}});
  j["slices"] = std::move(slices);
  if (const auto& v = m.varlen())
    j["varlen"] = {
        {"cu_seqlens", v->cu_seqlens}, {"window_left", v->window_left}, {"window_right", v->window_right}};
  return j.dump(2) + "\n";
}

nlohmann::ordered_json slices_json(const Mask& m) {
  auto slices = nlohmann::ordered_json::array();
  for (const auto& s : m.slices())
    slices.push_back({{"q", {s.q_begin, s.q_end}}, {"k", {s.k_begin, s.k_end}}, {"type", to_string(s.type)}});
  return slices;
}

// A selector: inputs drawn from --seed with the given shape, then the selected mask of every (b, h).
std::string selector_report(const MaskCommandOptions& o, const MaskPtr& base, std::int64_t sk) {
  if (o.batch < 1 || o.heads < 1 || o.head_dim < 1 || o.heads_kv < 0 ||
      (o.heads_kv > 0 && o.heads % o.heads_kv != 0))
    throw InputError(
        fmt::format("mask '{}': --batch, --heads, --head-dim must be positive and --heads-kv "
                    "divide --heads (got {}, {}, {}, {})",
                    o.name, o.batch, o.heads, o.head_dim, o.heads_kv));
  Problem p;
  p.shape = {o.batch, o.heads, o.heads_kv > 0 ? o.heads_kv : o.heads, o.seqlen, sk, o.head_dim};
  p.mask = base;
  p.seed = o.seed;
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(o.head_dim));
  if (!o.bias.empty())
    p.bias =
        build_bias({o.bias, key_values(o, o.bias_params, "--bias-param")}, o.heads, o.seqlen, sk, o.seed);
  const Inputs in = generate_inputs(p);
  p.head_masks = select_masks(p, in);
  nlohmann::ordered_json j;
  j["name"] = base->name();
  j["seqlen_q"] = o.seqlen;
  j["seqlen_k"] = sk;
  j["area"] = p.area();
  j["density"] = p.density();
  j["params"] = nlohmann::ordered_json::parse(base->params_json());
  j["base_mask"] = base_mask_label(p);
  j["bias"] = p.bias ? p.bias->label() : std::string("none");
  j["inputs"] = {{"seed", o.seed},
                 {"batch", o.batch},
                 {"heads_q", o.heads},
                 {"heads_kv", p.shape.heads_kv},
                 {"head_dim", o.head_dim}};
  j["slices"] = slices_json(*base);  // the base's; each head's selection below
  auto heads = nlohmann::ordered_json::array();
  std::string text = fmt::format(
      "mask      {} (selected from {})\nseqlen    {} x {}\nparams    {}\nbias      {}\n", base->name(),
      base_mask_label(p), o.seqlen, sk, base->params_json(), j["bias"].get<std::string>());
  for (std::int64_t b = 0; b < o.batch; ++b)
    for (std::int64_t h = 0; h < o.heads; ++h) {
      const Mask& m = p.mask_for(b, h);
      heads.push_back({{"batch", b},
                       {"head", h},
                       {"area", m.area()},
                       {"density", m.density()},
                       {"slices", slices_json(m)}});
      text += fmt::format("b {} h {}  area {}  density {:.6f}  slices {}\n", b, h, m.area(), m.density(),
                          m.slices().size());
    }
  j["heads"] = std::move(heads);
  return o.json ? j.dump(2) + "\n" : text;
}

std::string text_report(const Mask& m, std::int64_t max_slices) {
  std::string out =
      fmt::format("mask      {}\nseqlen    {} x {}\nparams    {}\narea      {}\ndensity   {:.6f}\n", m.name(),
                  m.seqlen_q(), m.seqlen_k(), m.params_json(), m.area(), m.density());
  const auto slices = m.slices();
  out += fmt::format("slices    {}\n", slices.size());
  std::int64_t shown = 0;
  for (const auto& s : slices) {
    if (shown++ == max_slices) {
      out += fmt::format("  ... {} more (--json lists them all)\n",
                         static_cast<std::int64_t>(slices.size()) - max_slices);
      break;
    }
    out += fmt::format("  q [{}, {})  k [{}, {})  {}  area {}\n", s.q_begin, s.q_end, s.k_begin, s.k_end,
                       to_string(s.type), s.area());
  }
  return out;
}

// per_head with --heads-k: the label mask's report plus, per group, its mask (name, params, area),
// its key heads [first, end) and the query heads that read them.
std::string per_head_report(const MaskCommandOptions& o, const MaskSpec& spec, std::int64_t sk) {
  const std::int64_t hq = o.heads_q > 0 ? o.heads_q : o.heads_k;
  if (hq % o.heads_k != 0)
    throw InputError(
        fmt::format("mask 'per_head': --heads-q ({}) must be a multiple of --heads-k ({})", hq, o.heads_k));
  const PerHeadMasks r = build_per_head(spec, o.seqlen, sk, hq, o.heads_k);
  auto groups = nlohmann::ordered_json::array();
  std::int64_t first = 0;
  const std::int64_t per_k = hq / o.heads_k;
  for (std::size_t i = 0; i < r.groups.size(); ++i) {
    const Mask& m = *r.group_masks[i];
    nlohmann::ordered_json g;
    g["mask"] = m.name();
    g["params"] = nlohmann::ordered_json::parse(m.params_json());
    if (r.groups[i].fraction > 0) g["fraction"] = r.groups[i].fraction;
    g["heads_k"] = r.heads_k[i];
    g["key_heads"] = {first, first + r.heads_k[i]};
    g["query_heads"] = {first * per_k, (first + r.heads_k[i]) * per_k};
    g["area"] = m.area();
    groups.push_back(std::move(g));
    first += r.heads_k[i];
  }
  double pairs = 0;
  for (const auto& m : r.query_heads) pairs += static_cast<double>(m->area());
  if (o.json) {
    nlohmann::ordered_json j;
    j["name"] = "per_head";
    j["seqlen_q"] = o.seqlen;
    j["seqlen_k"] = sk;
    j["heads_q"] = hq;
    j["heads_k"] = o.heads_k;
    j["area"] = pairs;  // summed over query heads (DESIGN.md "Masks per head")
    j["density"] =
        pairs / (static_cast<double>(hq) * static_cast<double>(o.seqlen) * static_cast<double>(sk));
    j["groups"] = std::move(groups);
    return j.dump(2) + "\n";
  }
  std::string out = fmt::format(
      "mask      per_head\nseqlen    {} x {}\nheads     {} query, {} key\narea      {} "
      "(summed over query heads)\n",
      o.seqlen, sk, hq, o.heads_k, static_cast<std::int64_t>(pairs));
  for (const auto& g : groups)
    out +=
        fmt::format("  group   {} {}  key heads [{}, {})  query heads [{}, {})  area {} per head\n",
                    g["mask"].get<std::string>(), g["params"].dump(), g["key_heads"][0].get<std::int64_t>(),
                    g["key_heads"][1].get<std::int64_t>(), g["query_heads"][0].get<std::int64_t>(),
                    g["query_heads"][1].get<std::int64_t>(), g["area"].get<std::int64_t>());
  return out;
}

}  // namespace

int run_mask_command(const MaskCommandOptions& o, std::string& out) {
  if (o.seqlen <= 0) throw InputError(fmt::format("mask '{}': --seqlen must be a positive integer", o.name));
  if (o.seqlen_k < 0)
    throw InputError(fmt::format("mask '{}': --seqlen-k must be a positive integer", o.name));

  const std::int64_t sk = o.seqlen_k > 0 ? o.seqlen_k : o.seqlen;
  if (o.heads_k < 0 || o.heads_q < 0)
    throw InputError(fmt::format("mask '{}': --heads-k and --heads-q must be positive integers", o.name));
  if ((!o.bias.empty() || !o.bias_params.empty()) && !is_selector(o.name))
    throw InputError(
        fmt::format("mask '{}': --bias/--bias-param apply to selectors only (a static mask "
                    "does not depend on scores)",
                    o.name));
  if ((o.heads_k > 0 || o.heads_q > 0) && o.name != "per_head")
    throw InputError(fmt::format("mask '{}': --heads-k/--heads-q apply to per_head only", o.name));
  if (o.name == "per_head" && o.heads_k > 0 && o.dump.empty()) {
    out += per_head_report(o, spec_from(o), sk);
    return 0;
  }
  const MaskPtr mask = build_mask(spec_from(o), o.seqlen, sk);
  if (is_selector(o.name)) {
    if (!o.dump.empty())
      throw InputError(
          fmt::format("mask '{}': --dump takes a static mask (a selector's masks are per head: "
                      "use run --dump-tensors)",
                      o.name));
    out += selector_report(o, mask, sk);
    return 0;
  }
  if (!o.dump.empty()) {
    if (o.seqlen > kMaxDumpCells / sk)
      throw InputError(fmt::format("mask '{}': --dump needs seqlen_q * seqlen_k <= {} cells (got {} x {})",
                                   o.name, kMaxDumpCells, o.seqlen, sk));
    const auto dense = mask->dense();
    try {
      write_npy(o.dump, "|u1", {mask->seqlen_q(), mask->seqlen_k()}, dense.data(), dense.size());
    } catch (const std::runtime_error&) {  // an unusable path is bad input: exit 2, one line
      throw InputError(fmt::format("mask '{}': --dump {}: cannot write the file (does its folder exist?)",
                                   o.name, o.dump));
    }
    // On stderr, so `--json` output stays one JSON document.
    fmt::print(stderr, "attnbench: wrote the dense mask ({} x {}, |u1) to {}\n", mask->seqlen_q(),
               mask->seqlen_k(), o.dump);
  }
  out += o.json ? json_report(*mask) : text_report(*mask, o.max_slices);
  return 0;
}

void add_mask_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MaskCommandOptions>();
  CLI::App* cmd = app.add_subcommand("mask", "Print a mask's area, density and slices, or dump it as .npy");
  cmd->add_option("name", o->name, "mask name (attnbench list masks)")->required();
  cmd->add_option("--seqlen", o->seqlen, "query length (and key length unless --seqlen-k), 1 to 2^31")
      ->required();
  cmd->add_option("--seqlen-k", o->seqlen_k, "key length (bottom-right aligned when different), 1 to 2^31");
  cmd->add_option("--param", o->params, "mask parameter key=value (YAML value), repeatable");
  cmd->add_flag("--json", o->json, "print a JSON object (all slices, resolved parameters)");
  cmd->add_option("--dump", o->dump, "write the dense mask (Sq x Sk, |u1) to this .npy file");
  cmd->add_option("--max-slices", o->max_slices, "slices listed in the text output (default 64)");
  cmd->add_option("--seed", o->seed, "selectors: seed of the inputs they select from (default 0)");
  cmd->add_option("--batch", o->batch, "selectors: batch of those inputs (default 1)");
  cmd->add_option("--heads", o->heads, "selectors: query heads (default 1)");
  cmd->add_option("--heads-kv", o->heads_kv, "selectors: key/value heads (default: --heads)");
  cmd->add_option("--head-dim", o->head_dim, "selectors: head dim (default 64)");
  cmd->add_option("--bias", o->bias, "selectors: additive bias their scores carry: none, alibi, relpos");
  cmd->add_option("--bias-param", o->bias_params, "selectors: bias parameter key=value, repeatable");
  cmd->add_option("--heads-k", o->heads_k,
                  "per_head: key heads to share out; prints each group's mask and heads (without it: the "
                  "groups with their fractions, and the first group's geometry)");
  cmd->add_option("--heads-q", o->heads_q, "per_head: query heads (default: --heads-k)");
  cmd->footer(
      fmt::format("Limits: sequences up to {} = 2^31 tokens per axis (every area exact); at most 2^24 "
                  "documents and 2^30 block pairs; --dump up to 2^31 cells. Past a limit: exit 2.",
                  kMaxMaskSeqlen));
  cmd->callback([o, &exit_code] {
    std::string out;
    exit_code = run_mask_command(*o, out);
    fmt::print("{}", out);
  });
}

}  // namespace attnbench
