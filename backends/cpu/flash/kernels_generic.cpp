// cpu.flash kernels in portable C++ (4-wide): the fallback for CPUs without AVX2, and a second width for the
// tests.
#include "simd_generic.hpp"
#define ATTNBENCH_FLASH_NS generic
#include "flash_impl.hpp"

namespace attnbench::cpu::flash {

const KernelSet& kernels_generic() {
  // Constant-initialised: calling this runs no generic instruction, so the dispatcher may ask safely.
  static constexpr KernelSet set = generic::make_kernel_set("generic");
  return set;
}

}  // namespace attnbench::cpu::flash
