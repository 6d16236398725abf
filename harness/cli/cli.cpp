// Builds the CLI11 app, maps every failure to one error line and the contract's exit codes.
#include "harness/cli/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/types.hpp"
#include "attnbench/version.hpp"
#include "harness/cli/cmd_compare.hpp"
#include "harness/cli/cmd_mask.hpp"
#include "harness/plugins.hpp"

namespace attnbench {

namespace {

// The first argument that is neither an option nor the value of `--plugin`: the verb the user typed.
std::string first_positional(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--plugin") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] != '-') return a;
  }
  return {};
}

bool is_verb(CLI::App& app, const std::string& name) {
  for (const CLI::App* v : app.get_subcommands({}))
    if (v->get_name() == name) return true;
  return false;
}

std::string verb_list(CLI::App& app) {
  std::string out;
  for (const CLI::App* v : app.get_subcommands({})) out += (out.empty() ? "" : ", ") + v->get_name();
  return out;
}

// Levenshtein distance, for "did you mean" on a mistyped verb.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_verb(CLI::App& app, const std::string& typed) {
  std::string best;
  std::size_t best_d = 3;  // suggest only near misses
  for (const CLI::App* v : app.get_subcommands({}))
    if (const std::size_t d = edit_distance(typed, v->get_name()); d < best_d) {
      best_d = d;
      best = v->get_name();
    }
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

}  // namespace

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
  // `--plugin` is global: every verb's --help names it too.
  for (CLI::App* verb : app.get_subcommands({}))
    verb->footer(
        "Global option (before or after the verb): --plugin PATH.so  load backends from a plugin "
        "library (repeatable; also ATTNBENCH_PLUGIN_PATH)");
  if (argc <= 1) {  // a bare `attnbench` shows what it can do
    fmt::print("{}", app.help());
    return 0;
  }
  if (const auto verb = first_positional(argc, argv); !verb.empty() && !is_verb(app, verb)) {
    fmt::print(stderr, "attnbench: error: unknown verb '{}'; accepted: {}{}\n", verb, verb_list(app),
               closest_verb(app, verb));
    return 2;
  }
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
