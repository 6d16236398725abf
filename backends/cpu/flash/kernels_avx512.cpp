// cpu.flash kernels for AVX-512F: the only file of the backend built with -mavx512f.
#include "simd_avx512.hpp"
#define ATTNBENCH_FLASH_NS avx512
#include "flash_impl.hpp"

namespace attnbench::cpu::flash {

const KernelSet& kernels_avx512() {
  static const KernelSet set = avx512::make_kernel_set("avx512");
  return set;
}

}  // namespace attnbench::cpu::flash
