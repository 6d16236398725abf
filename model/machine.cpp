// Machine file parsing with one clear error per bad field, and writing (calibrate).
#include "model/machine.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "attnbench/types.hpp"

namespace attnbench::model {

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& field, const std::string& what,
                      const std::string& accepted) {
  throw InputError(fmt::format("{}: {}: {} (accepted: {})", path, field, what, accepted));
}

double positive(const YAML::Node& n, const std::string& path, const std::string& field, bool required,
                double fallback) {
  if (!n) {
    if (required) bad(path, field, "missing", "a positive number");
    return fallback;
  }
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    bad(path, field, fmt::format("'{}' is not a number", n.Scalar()), "a positive number");
  }
  if (!(v > 0)) bad(path, field, fmt::format("{} is not positive", v), "a positive number");
  return v;
}

Link link(const YAML::Node& n, const std::string& path, const std::string& field) {
  if (!n || !n.IsMap()) bad(path, field, "missing or not a map", "{alpha_us: NUMBER, gbps: NUMBER}");
  for (auto it = n.begin(); it != n.end(); ++it) {
    const auto k = it->first.as<std::string>();
    if (k != "alpha_us" && k != "gbps") bad(path, field + "." + k, "unknown field", "alpha_us, gbps");
  }
  Link l;
  l.alpha_us = positive(n["alpha_us"], path, field + ".alpha_us", true, 0);
  l.gbps = positive(n["gbps"], path, field + ".gbps", true, 0);
  return l;
}

}  // namespace

Machine parse_machine(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    bad(path, "(file)", fmt::format("malformed YAML: {}", e.what()), "a YAML map");
  }
  if (!root.IsMap()) bad(path, "(file)", "not a map", "name, gpus_per_node, intra, inter, peak_tflops, ...");
  static const char* known[] = {"name",        "gpus_per_node",        "intra",  "inter",
                                "peak_tflops", "attention_efficiency", "profile"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    const auto k = it->first.as<std::string>();
    if (std::find(std::begin(known), std::end(known), k) == std::end(known))
      bad(path, k, "unknown field",
          "name, gpus_per_node, intra, inter, peak_tflops, attention_efficiency, profile");
  }
  Machine m;
  m.path = path;
  m.name = root["name"] ? root["name"].as<std::string>() : path;
  const double g = positive(root["gpus_per_node"], path, "gpus_per_node", true, 0);
  if (g != static_cast<int>(g))
    bad(path, "gpus_per_node", fmt::format("{} is not an integer", g), "a positive integer");
  m.gpus_per_node = static_cast<int>(g);
  m.intra = link(root["intra"], path, "intra");
  m.inter = link(root["inter"], path, "inter");
  m.peak_tflops = positive(root["peak_tflops"], path, "peak_tflops", true, 0);
  m.attention_efficiency = positive(root["attention_efficiency"], path, "attention_efficiency", false, 0.5);
  if (m.attention_efficiency > 1)
    bad(path, "attention_efficiency", fmt::format("{} is above 1", m.attention_efficiency),
        "a number in (0, 1]");
  if (const auto p = root["profile"]) {
    if (!p.IsSequence())
      bad(path, "profile", "not a list", "a list of {backend, head_dim, dtype, pass, a_ms, b_ms_per_gwork}");
    for (std::size_t i = 0; i < p.size(); ++i) {
      const auto e = p[i];
      const std::string f = fmt::format("profile[{}]", i);
      ProfileEntry pe;
      if (!e["backend"] || !e["dtype"] || !e["pass"])
        bad(path, f, "needs backend, dtype and pass",
            "{backend, head_dim, dtype, pass, a_ms, b_ms_per_gwork}");
      pe.backend = e["backend"].as<std::string>();
      pe.dtype = e["dtype"].as<std::string>();
      pe.pass = e["pass"].as<std::string>();
      if (pe.pass != "fwd" && pe.pass != "bwd" && pe.pass != "fwd_bwd")
        bad(path, f + ".pass", "'" + pe.pass + "'", "fwd, bwd, fwd_bwd");
      pe.head_dim = static_cast<std::int64_t>(positive(e["head_dim"], path, f + ".head_dim", true, 0));
      pe.a_ms = e["a_ms"] ? e["a_ms"].as<double>() : 0.0;
      if (pe.a_ms < 0) bad(path, f + ".a_ms", "negative", "a number >= 0");
      pe.b_ms_per_gwork = positive(e["b_ms_per_gwork"], path, f + ".b_ms_per_gwork", true, 0);
      pe.points = e["points"] ? e["points"].as<int>() : 0;
      m.profile.push_back(pe);
    }
  }
  return m;
}

Machine load_machine(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot read the machine file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_machine(ss.str(), path);
}

std::string machine_yaml(const Machine& m, const std::vector<std::string>& comment) {
  std::string s;
  for (const auto& c : comment) s += "# " + c + "\n";
  s += fmt::format("name: {}\ngpus_per_node: {}\n", m.name, m.gpus_per_node);
  s += fmt::format("intra: {{alpha_us: {:.4g}, gbps: {:.4g}}}\n", m.intra.alpha_us, m.intra.gbps);
  s += fmt::format("inter: {{alpha_us: {:.4g}, gbps: {:.4g}}}\n", m.inter.alpha_us, m.inter.gbps);
  s += fmt::format("peak_tflops: {:.4g}\nattention_efficiency: {:.3g}\n", m.peak_tflops,
                   m.attention_efficiency);
  if (!m.profile.empty()) {
    s += "profile:\n";
    for (const auto& e : m.profile)
      s += fmt::format(
          "  - {{backend: {}, head_dim: {}, dtype: {}, pass: {}, a_ms: {:.6g}, b_ms_per_gwork: {:.6g}, "
          "points: {}}}\n",
          e.backend, e.head_dim, e.dtype, e.pass, e.a_ms, e.b_ms_per_gwork, e.points);
  }
  return s;
}

}  // namespace attnbench::model
