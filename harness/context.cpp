// Reads the host facts (hostname, /proc/cpuinfo, compiler) for the context block.
#include "harness/context.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "attnbench/version.hpp"
#include "harness/plugins.hpp"

#ifndef ATTNBENCH_GIT_REVISION
#define ATTNBENCH_GIT_REVISION "unknown"
#endif
#ifndef ATTNBENCH_BUILD_TYPE
#define ATTNBENCH_BUILD_TYPE "unknown"
#endif

namespace attnbench {

namespace {

std::vector<ContextProvider>& providers() {
  static std::vector<ContextProvider> p;
  return p;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

void add_context_provider(ContextProvider p) { providers().push_back(std::move(p)); }

Context collect_context(const std::string& scenario_text) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  Context c = {
      {"tool", json_string("attnbench")},
      {"tool_version", json_string(ATTNBENCH_VERSION_STRING)},
      {"git_revision", json_string(ATTNBENCH_GIT_REVISION)},
      {"build_type", json_string(ATTNBENCH_BUILD_TYPE)},
      {"date", json_string(utc_now())},
      {"host", json_string(host)},
      {"cpu_model", json_string(cpu_model())},
      {"cores", std::to_string(std::thread::hardware_concurrency())},
      {"compiler", json_string(std::string("gcc ") + __VERSION__)},
      {"mpi_library", json_string("none")},
      {"world_size", "1"},
  };
  c.emplace_back("plugins", loaded_plugins_json());  // path, names, size and hash of each --plugin
  for (const auto& p : providers()) p(c);
  c.emplace_back("scenario", json_string(scenario_text));
  return c;
}

}  // namespace attnbench
