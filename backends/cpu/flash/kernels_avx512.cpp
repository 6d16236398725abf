// cpu.flash kernels for AVX-512F: the only file of the backend built with -mavx512f.
#include "simd_avx512.hpp"
#define ATTNBENCH_FLASH_NS avx512
#include "flash_impl.hpp"

namespace attnbench::cpu::flash {

const KernelSet& kernels_avx512() {
  // Constant-initialised: calling this runs no avx512 instruction, so the dispatcher may ask safely.
  static constexpr KernelSet set = avx512::make_kernel_set("avx512");
  return set;
}

}  // namespace attnbench::cpu::flash
