// Builds the CLI11 app, maps every failure to one error line and the contract's exit codes.
#include "harness/cli/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "attnbench/types.hpp"
#include "attnbench/version.hpp"
#include "harness/cli/cmd_compare.hpp"

namespace attnbench {

int run_cli(int argc, const char* const* argv) {
  CLI::App app{"attnbench: benchmark long-context attention kernels and context-parallel strategies"};
  app.name("attnbench");
  app.set_version_flag("--version", std::string("attnbench ") + ATTNBENCH_VERSION_STRING);
  app.require_subcommand(1);
  int exit_code = 0;
  add_run_command(app, exit_code);
  add_list_command(app, exit_code);
  add_compare_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion&) {
    fmt::print("attnbench {}\n", ATTNBENCH_VERSION_STRING);
    return 0;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "attnbench: error: {}\n", e.what());
    return 2;
  } catch (const InputError& e) {
    fmt::print(stderr, "attnbench: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnbench: error: {}\n", e.what());
    return 1;
  }
  return exit_code;
}

}  // namespace attnbench
