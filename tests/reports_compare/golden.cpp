// Golden-file checks for report writers (see golden.hpp).
#include "tests/reports_compare/golden.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace attnbench::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(ATTNBENCH_SOURCE_DIR) / "tests/reports_compare/fixtures" / name;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string golden_difference(const std::string& actual, const std::filesystem::path& expected) {
  if (const char* update = std::getenv("ATTNBENCH_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(expected, std::ios::binary | std::ios::trunc) << actual;
    return "";
  }
  if (!std::filesystem::exists(expected)) return expected.string() + ": golden file missing";
  const auto want = lines_of(read_text(expected));
  const auto got = lines_of(actual);
  for (std::size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    const std::string w = i < want.size() ? want[i] : "<end of file>";
    const std::string g = i < got.size() ? got[i] : "<end of output>";
    if (w != g)
      return expected.filename().string() + " line " + std::to_string(i + 1) + "\n  expected: " + w +
             "\n  actual:   " + g;
  }
  return "";
}

}  // namespace attnbench::test
