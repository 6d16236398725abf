// The attnbench command line: `run`, `list`, `mask`, `compare` as CLI11 subcommands.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace attnbench {

// Runs the CLI in-process (tests call it directly) and returns the exit code:
// 0 success, 1 a correctness failure (run) or a regression (compare), 2 bad input.
int run_cli(int argc, const char* const* argv);

// Each verb adds its subcommand; the callback stores the verb's exit code here.
void add_run_command(CLI::App&, int& exit_code);
void add_list_command(CLI::App&, int& exit_code);

}  // namespace attnbench
