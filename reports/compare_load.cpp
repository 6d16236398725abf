// Loading one run for `attnbench compare`: rows through the shared JSON reader, duplicates and labels.
#include <fmt/format.h>

#include <map>
#include <set>
#include <unordered_map>

#include "attnbench/types.hpp"
#include "harness/case_key.hpp"
#include "reports/case_label.hpp"
#include "reports/compare.hpp"
#include "reports/json_reader.hpp"

namespace attnbench {
namespace {

// Rows differing only in a hidden part of the key (the seed, a sampled
// parameter) would print alike: name the seed, then the full parameters.
void disambiguate_labels(RunFile& run) {
  for (int round = 0; round < 2; ++round) {
    std::map<std::string, std::set<std::string>> keys_by_label;
    for (std::size_t i = 0; i < run.rows.size(); ++i)
      keys_by_label[run.labels[i]].insert(case_key(run.rows[i]));
    for (std::size_t i = 0; i < run.rows.size(); ++i) {
      if (keys_by_label[run.labels[i]].size() < 2) continue;
      const auto& r = run.rows[i];
      run.labels[i] += round == 0 ? fmt::format(" · seed {}", r.seed) : " · " + canonical_json(r.mask_params);
    }
  }
}

RunFile to_run_file(ResultsFile f) {
  RunFile run;
  run.path = f.path;
  run.context_json = f.context_json;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < f.rows.size(); ++i) {
    ResultRow& row = f.rows[i];
    const std::string key = case_key(row);
    if (auto it = index.find(key); it != index.end()) {
      // Keep the later row, as a resumed run would have it, and say so.
      run.warnings.push_back(
          fmt::format("{}: results[{}] repeats the case of an earlier row ({}); "
                      "the later row is used",
                      f.path, i, case_label(row)));
      run.rows[it->second] = std::move(row);
      continue;
    }
    index.emplace(key, run.rows.size());
    run.rows.push_back(std::move(row));
  }
  for (const auto& r : run.rows) run.labels.push_back(case_label(r));
  disambiguate_labels(run);
  return run;
}

}  // namespace

RunFile parse_run_file(const std::string& text, const std::string& path) {
  return to_run_file(parse_results_json(text, path));
}

RunFile load_run_file(const std::filesystem::path& path) {
  return to_run_file(read_results_json(path.string()));
}

}  // namespace attnbench
