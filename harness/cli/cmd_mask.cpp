// The `mask` verb: build one mask from the command line and report it as text or JSON, or dump it.
#include "harness/cli/cmd_mask.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "attnbench/types.hpp"
#include "harness/npy.hpp"
#include "masks/library.hpp"

namespace attnbench {

namespace {

// Dense dumps beyond this many cells (2 GiB of bytes) are refused rather than attempted.
constexpr std::int64_t kMaxDumpCells = std::int64_t{1} << 31;

MaskSpec spec_from(const MaskCommandOptions& o) {
  MaskSpec spec{o.name, {}};
  for (const auto& kv : o.params) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("mask '{}': --param '{}' must be key=value", o.name, kv));
    spec.params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return spec;
}

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

}  // namespace

int run_mask_command(const MaskCommandOptions& o, std::string& out) {
  if (o.seqlen <= 0) throw InputError(fmt::format("mask '{}': --seqlen must be a positive integer", o.name));
  if (o.seqlen_k < 0)
    throw InputError(fmt::format("mask '{}': --seqlen-k must be a positive integer", o.name));
  const std::int64_t sk = o.seqlen_k > 0 ? o.seqlen_k : o.seqlen;
  const MaskPtr mask = build_mask(spec_from(o), o.seqlen, sk);
  if (!o.dump.empty()) {
    if (o.seqlen > kMaxDumpCells / sk)
      throw InputError(fmt::format("mask '{}': --dump needs seqlen_q * seqlen_k <= {} cells (got {} x {})",
                                   o.name, kMaxDumpCells, o.seqlen, sk));
    const auto dense = mask->dense();
    write_npy(o.dump, "|u1", {mask->seqlen_q(), mask->seqlen_k()}, dense.data(), dense.size());
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
  cmd->add_option("--seqlen", o->seqlen, "query length (and key length unless --seqlen-k)")->required();
  cmd->add_option("--seqlen-k", o->seqlen_k, "key length (bottom-right aligned when different)");
  cmd->add_option("--param", o->params, "mask parameter key=value (YAML value), repeatable");
  cmd->add_flag("--json", o->json, "print a JSON object (all slices, resolved parameters)");
  cmd->add_option("--dump", o->dump, "write the dense mask (Sq x Sk, |u1) to this .npy file");
  cmd->add_option("--max-slices", o->max_slices, "slices listed in the text output (default 64)");
  cmd->callback([o, &exit_code] {
    std::string out;
    exit_code = run_mask_command(*o, out);
    fmt::print("{}", out);
  });
}

}  // namespace attnbench
