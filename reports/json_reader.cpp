// Parses results.json with nlohmann::json: required keys into fields, every other key into extras.
#include "reports/json_reader.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "attnbench/types.hpp"

namespace attnbench {

namespace {

double number_or_nan(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : ResultRow::nan;
}

ResultRow parse_row(const nlohmann::json& j, const std::string& path, std::size_t index) {
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key))
      throw InputError(fmt::format("{}: results[{}]: missing key '{}'", path, index, key));
    return j.at(key);
  };
  ResultRow r;
  try {
    r.backend = need("backend").get<std::string>();
    r.strategy = need("strategy").get<std::string>();
    r.world_size = need("world_size").get<int>();
    r.mask = need("mask").get<std::string>();
    const auto& mp = need("mask_params");
    r.mask_params = mp.is_string() ? mp.get<std::string>() : mp.dump();
    r.seed = need("seed").get<std::uint64_t>();
    r.batch = need("batch").get<std::int64_t>();
    r.heads_q = need("heads_q").get<std::int64_t>();
    r.heads_kv = need("heads_kv").get<std::int64_t>();
    r.seqlen_q = need("seqlen_q").get<std::int64_t>();
    r.seqlen_k = need("seqlen_k").get<std::int64_t>();
    r.head_dim = need("head_dim").get<std::int64_t>();
    r.dtype = need("dtype").get<std::string>();
    r.pass = need("pass").get<std::string>();
    const std::string status = need("status").get<std::string>();
    const auto st = parse_status(status);
    if (!st)
      throw InputError(fmt::format("{}: results[{}]: unknown status '{}' (accepted: ok, unsupported, oom, error, mismatch, skipped, modelled)",
                                   path, index, status));
    r.status = *st;
    r.time_ms = number_or_nan(need("time_ms"));
    r.time_ms_min = number_or_nan(need("time_ms_min"));
    r.time_ms_max = number_or_nan(need("time_ms_max"));
    r.noise_pct = number_or_nan(need("noise_pct"));
    r.iters = need("iters").get<std::int64_t>();
    r.area = need("area").get<std::int64_t>();
    r.density = number_or_nan(need("density"));
    r.tflops = number_or_nan(need("tflops"));
    r.peak_mem_bytes = need("peak_mem_bytes").get<std::int64_t>();
    r.max_abs_err = number_or_nan(need("max_abs_err"));
    r.rel_l2_err = number_or_nan(need("rel_l2_err"));
    r.message = need("message").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: results[{}]: wrong type: {}", path, index, e.what()));
  }
  static const std::set<std::string> required(required_columns().begin(), required_columns().end());
  for (const auto& [key, value] : j.items()) {
    if (required.count(key)) continue;
    if (value.is_number())
      r.extra.push_back({key, value.get<double>(), {}});
    else if (value.is_string())
      r.extra.push_back({key, ResultRow::nan, value.get<std::string>()});
    else if (value.is_null())
      r.extra.push_back({key, ResultRow::nan, {}});
    else
      r.extra.push_back({key, ResultRow::nan, value.dump(), true});
  }
  return r;
}

}  // namespace

ResultsFile read_results_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open results file", path));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array())
    throw InputError(fmt::format("{}: not an attnbench results file (needs an object with a \"results\" array)", path));
  ResultsFile f;
  f.schema_version = doc.value("schema_version", 0);
  if (doc.contains("context") && doc["context"].is_object())
    for (const auto& [k, v] : doc["context"].items()) f.context.emplace_back(k, v.dump());
  std::size_t i = 0;
  for (const auto& row : doc["results"]) f.rows.push_back(parse_row(row, path, i++));
  return f;
}

}  // namespace attnbench
