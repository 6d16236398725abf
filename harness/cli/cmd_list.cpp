// `attnbench list backends|masks|strategies|distributions`: what this build can run, and with which
// parameters.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>

#include "attnbench/registry.hpp"
#include "harness/cli/cli.hpp"
#include "masks/distributions.hpp"
#include "masks/library.hpp"

namespace attnbench {

namespace {

void list_backends() {
  // Column widths from the longest entry, so plugin names and origins (paths) keep the table aligned.
  std::size_t wname = 7, worigin = 6;
  for (const auto& e : Registry::instance().backends()) {
    wname = std::max(wname, e.name.size());
    worigin = std::max(worigin, e.origin.size());
  }
  fmt::print("{:<{}} {:<6} {:<16} {:<14} {:<{}} {}\n", "backend", wname, "device", "dtypes", "head_dims",
             "origin", worigin, "description");
  for (const auto& e : Registry::instance().backends()) {
    const BackendInfo i = e.backend->info();
    std::vector<std::string_view> dt;
    for (auto d : i.dtypes) dt.push_back(to_string(d));
    const std::string dims =
        i.head_dims.empty() ? (i.head_dim_multiple > 1 ? fmt::format("k*{}", i.head_dim_multiple) : "any")
                            : fmt::format("{}", fmt::join(i.head_dims, ","));
    fmt::print("{:<{}} {:<6} {:<16} {:<14} {:<{}} {}\n", e.name, wname, to_string(i.device),
               fmt::format("{}", fmt::join(dt, ",")), dims, e.origin, worigin, i.description);
    fmt::print("{:<{}} masks: {}\n", "", wname,
               i.masks.empty() ? "all" : fmt::format("{}", fmt::join(i.masks, ", ")));
  }
}

void list_masks() {
  for (const auto& m : mask_catalogue()) {
    fmt::print("{:<24} [{}] {}\n", m.name, m.family, m.definition);
    for (const auto& p : m.params)
      fmt::print("    {:<14} default {:<10} {}\n", p.name, p.default_value.empty() ? "-" : p.default_value,
                 p.description);
  }
}

void list_distributions() {
  for (const auto& d : masks::distribution_catalogue())
    fmt::print("{:<12} {:<22} {}\n", d.name, d.parameters, d.description);
}

void list_strategies() {
  fmt::print("{:<14} {}\n", "none", "single device (no context parallelism)");
  for (const auto& e : Registry::instance().strategies()) {
    const StrategyInfo i = e.strategy->info();
    fmt::print("{:<14} {}{}\n", e.name, i.description,
               i.parameters.empty() ? "" : fmt::format(" (options: {})", fmt::join(i.parameters, ", ")));
  }
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto what = std::make_shared<std::string>();
  CLI::App* list = app.add_subcommand("list", "List backends, masks or strategies");
  list->add_option("what", *what, "backends | masks | strategies | distributions")
      ->required()
      ->check(CLI::IsMember({"backends", "masks", "strategies", "distributions"}));
  list->callback([what, &exit_code] {
    if (*what == "backends") list_backends();
    if (*what == "masks") list_masks();
    if (*what == "strategies") list_strategies();
    if (*what == "distributions") list_distributions();
    exit_code = 0;
  });
}

}  // namespace attnbench
