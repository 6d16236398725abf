// Main of the device tests: exits 77 (ctest SKIP_RETURN_CODE) when no usable CUDA device is present.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "backends/cuda/common/device.hpp"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    listing = listing || a.rfind("--list", 0) == 0 || a == "-l" || a == "-h" || a == "--help";
  }
  std::string why;
  if (!listing && !attnbench::cuda::cuda_device_available(&why)) {
    std::printf("SKIPPED: %s\n", why.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
