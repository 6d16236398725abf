// What an output folder already holds, for --resume and --append: its rows (results.csv first) and its
// scenario.
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// The scenario a folder's rows come from: OUT/results.scenario.json (written before
// the first row of every run), else the context of OUT/results.json.
struct FolderScenario {
  std::string name;         // empty: unknown (no sidecar, no results.json naming it)
  std::string fingerprint;  // scenario_fingerprint() of its text
  std::string source;       // the file that said so
};

struct FolderResults {
  std::vector<ResultRow> rows;  // in file order
  std::string source;           // the file they came from; empty when the folder has none
  std::size_t cut_bytes =
      0;  // a last results.csv line cut short (killed mid-write): dropped, its case reruns
};

// The sidecar's file name.
inline constexpr const char* scenario_sidecar = "results.scenario.json";

// Rows of `dir`: results.csv, each complete line (a last line without its newline is
// dropped); results.json only where there is no CSV. Throws InputError naming the file
// on a damaged file (a cut header, a bad row in the middle, malformed JSON).
FolderResults read_folder_results(const std::string& dir);

// The folder's scenario. strict: a results.json that cannot be read is an InputError;
// otherwise it just leaves the scenario unknown.
FolderScenario read_folder_scenario(const std::string& dir, bool strict);
// Writes OUT/results.scenario.json atomically.
void write_folder_scenario(const std::string& dir, const FolderScenario&);

// A short stable hash (FNV-1a, 16 hex digits) of the scenario text (after --set).
std::string scenario_fingerprint(const std::string& text);

}  // namespace attnbench
