// cpu.flash kernels for AVX2 + FMA: the only file of the backend built with -mavx2 -mfma.
#include "simd_avx2.hpp"
#define ATTNBENCH_FLASH_NS avx2
#include "flash_impl.hpp"

namespace attnbench::cpu::flash {

const KernelSet& kernels_avx2() {
  // Constant-initialised: calling this runs no avx2 instruction, so the dispatcher may ask safely.
  static constexpr KernelSet set = avx2::make_kernel_set("avx2");
  return set;
}

}  // namespace attnbench::cpu::flash
