// Builds and throws the error messages of ATTNBENCH_CUDA_CHECK and friends.
#include "backends/cuda/common/cuda_check.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "attnbench/types.hpp"

namespace attnbench::cuda {

namespace {
std::string format_call_error(const char* library, const char* error, const char* call, const char* file,
                              int line) {
  return std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + library + ": " +
         (error != nullptr ? error : "unknown error");
}
}  // namespace

void throw_call_error(const char* library, const char* error, bool out_of_memory, const char* call,
                      const char* file, int line) {
  std::string message = format_call_error(library, error, call, file, line);
  if (out_of_memory) throw OutOfMemory(message);
  throw std::runtime_error(message);
}

void report_call_error(const char* library, const char* error, const char* call, const char* file,
                       int line) noexcept {
  std::fprintf(stderr, "attnbench: %s\n", format_call_error(library, error, call, file, line).c_str());
}

}  // namespace attnbench::cuda
