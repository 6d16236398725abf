// `attnbench compare` as a user runs it: exit codes, the one-line errors, and the --md/--junit files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "harness/cli/cli.hpp"
#include "harness/cli/cmd_compare.hpp"
#include "tests/reports_compare/golden.hpp"

using namespace attnbench;
using attnbench::testing::fixture;
using attnbench::testing::read_text;

namespace {

// The binary's own entry point, in-process: returns the exit status main would.
int cli_exit(std::vector<std::string> args) {
  std::vector<const char*> argv{"attnbench"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("CLI exit codes follow the contract") {
  const auto base = fixture("baseline.json").string();
  CHECK(cli_exit({"compare", base, base, "-q"}) == 0);
  CHECK(cli_exit({"compare", base, fixture("slower_30pct.json").string(), "-q"}) == 1);
  CHECK(cli_exit({"compare", base, fixture("mismatch.json").string(), "-q"}) == 1);
  CHECK(cli_exit({"compare", base, fixture("faster.json").string(), "-q"}) == 0);
  CHECK(cli_exit({"compare", base, fixture("malformed.json").string(), "-q"}) == 2);
  CHECK(cli_exit({"compare", base, "does/not/exist.json", "-q"}) == 2);
  CHECK(cli_exit({"compare", base, base, "--fail-on", "nonsense", "-q"}) == 2);
  CHECK(cli_exit({"compare", base, fixture("slower_30pct.json").string(), "--threshold", "50", "-q"}) == 0);
  CHECK(cli_exit({"compare", base}) == 2);  // CLI11: the current file is required
}

TEST_CASE("a missing file prints one clear line") {
  CompareCommandArgs args;
  args.baseline = fixture("baseline.json").string();
  args.current = "does/not/exist.json";
  std::ostringstream out, err;
  CHECK(run_compare_command(args, out, err) == 2);
  CHECK(out.str().empty());
  CHECK(err.str() ==
        "attnbench compare: does/not/exist.json: no such file (expected a results.json written by "
        "`attnbench run`)\n");
}

TEST_CASE("compare writes the --md and --junit files and prints the Markdown") {
  const auto dir = std::filesystem::temp_directory_path() / "attnbench_compare_cli_test";
  std::filesystem::create_directories(dir);
  CompareCommandArgs args;
  args.baseline = fixture("baseline.json").string();
  args.current = fixture("slower_30pct.json").string();
  args.md_path = (dir / "compare.md").string();
  args.junit_path = (dir / "compare.xml").string();
  std::ostringstream out, err;
  CHECK(run_compare_command(args, out, err) == 1);
  CHECK(read_text(args.md_path) == out.str());
  const auto xml = read_text(args.junit_path);
  CHECK(xml.find("<failure type=\"slower\"") != std::string::npos);
  CHECK(err.str().find("FAIL (8 rows, 1 failing)") != std::string::npos);
  std::filesystem::remove_all(dir);
}
