// cpu.flash kernels for AVX-512F: the only file of the backend built with -mavx512f.
#include "simd_avx512.hpp"
#define ATTNBENCH_FLASH_NS avx512
#include "flash_impl.hpp"

ATTNBENCH_FLASH_KERNEL_SET(avx512)
