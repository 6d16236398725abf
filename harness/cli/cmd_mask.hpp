// `attnbench mask NAME --seqlen N ...`: print one mask's area, density, slices, or dump it as .npy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace attnbench {

struct MaskCommandOptions {
  std::string name;
  std::int64_t seqlen = 0;
  std::int64_t seqlen_k = 0;        // 0: same as seqlen
  std::vector<std::string> params;  // "key=value", value as YAML text
  bool json = false;
  std::string dump;              // .npy path for the dense mask, empty: none
  std::int64_t max_slices = 64;  // slices listed in the text output
  // Selectors (dynamic masks) select from inputs drawn from the seed with this shape (DESIGN.md).
  std::int64_t batch = 1, heads = 1, heads_kv = 0, head_dim = 64;  // heads_kv 0: heads
  std::uint64_t seed = 0;
  // Selectors: the additive bias their scores carry, as in a scenario's `bias` (empty: none), and its
  // parameters "key=value"; relpos tables are drawn from --seed as `run` draws them from the scenario's.
  std::string bias;
  std::vector<std::string> bias_params;
  // per_head: the key heads the groups share out (0: groups printed with their fractions only)
  // and the query heads (0: as many as key heads).
  std::int64_t heads_k = 0;
  std::int64_t heads_q = 0;
};

// Builds the mask and appends its report (text or JSON) to `out`; writes the dump if asked.
// Bad input throws InputError (the CLI prints it and exits 2). Returns the exit code.
int run_mask_command(const MaskCommandOptions&, std::string& out);

// Registers the `mask` subcommand; its callback stores the exit code in `exit_code`.
void add_mask_command(CLI::App&, int& exit_code);

}  // namespace attnbench
