// Golden-file checks for report writers: line-by-line comparison with a checked-in expected file.
#pragma once

#include <filesystem>
#include <string>

namespace attnbench::test {

std::filesystem::path fixture(const std::string& name);
std::string read_text(const std::filesystem::path&);

// Empty when `actual` equals the file line by line; otherwise the first
// differing line number with both lines. With ATTNBENCH_UPDATE_GOLDEN=1 in the
// environment the file is rewritten instead (then review the diff in git).
std::string golden_difference(const std::string& actual, const std::filesystem::path& expected);

}  // namespace attnbench::test
