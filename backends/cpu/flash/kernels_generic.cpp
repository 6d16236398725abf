// cpu.flash kernels in portable C++ (4-wide): the fallback for CPUs without AVX2, and a second width for the tests.
#include "simd_generic.hpp"
#define ATTNBENCH_FLASH_NS generic
#include "flash_impl.hpp"

namespace attnbench::cpu::flash {

const KernelSet& kernels_generic() {
  static const KernelSet set = generic::make_kernel_set("generic");
  return set;
}

}  // namespace attnbench::cpu::flash
