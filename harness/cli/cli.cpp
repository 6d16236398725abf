// Builds the CLI11 app, maps every failure to one error line and the contract's exit codes.
#include "harness/cli/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "attnbench/types.hpp"
#include "attnbench/version.hpp"
#include "harness/cli/cmd_compare.hpp"
#include "harness/cli/cmd_mask.hpp"
#include "harness/cli/cmd_model.hpp"
#include "harness/plugins.hpp"

namespace attnbench {

int run_cli(int argc, const char* const* argv) {
  CLI::App app{"attnbench: benchmark long-context attention kernels and context-parallel strategies"};
  app.name("attnbench");
  app.set_version_flag("--version", std::string("attnbench ") + ATTNBENCH_VERSION_STRING);
  app.require_subcommand(1);
  // Plugins are global: `--plugin` may come before the verb or among its options
  // (fallthrough), and they load before any verb runs, so scenario globs see them.
  auto plugins = std::make_shared<std::vector<std::string>>();
  app.add_option("--plugin", *plugins,
                 "Load backends from a plugin library (repeatable; also ATTNBENCH_PLUGIN_PATH, "
                 "a colon-separated list of .so files or folders)")
      ->type_name("PATH.so")
      ->allow_extra_args(false);
  app.fallthrough();
  app.parse_complete_callback([plugins] { load_plugins(*plugins); });
  int exit_code = 0;
  add_run_command(app, exit_code);
  add_list_command(app, exit_code);
  add_mask_command(app, exit_code);
  add_compare_command(app, exit_code);
  add_model_command(app, exit_code);
  add_calibrate_command(app, exit_code);
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
