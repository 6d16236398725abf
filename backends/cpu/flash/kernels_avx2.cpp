// cpu.flash kernels for AVX2 + FMA: the only file of the backend built with -mavx2 -mfma.
#include "simd_avx2.hpp"
#define ATTNBENCH_FLASH_NS avx2
#include "flash_impl.hpp"

ATTNBENCH_FLASH_KERNEL_SET(avx2)
