// cpu.flash kernels in portable C++ (4-wide): the fallback for CPUs without AVX2, and a second width for the
// tests.
#include "simd_generic.hpp"
#define ATTNBENCH_FLASH_NS generic
#include "flash_impl.hpp"

ATTNBENCH_FLASH_KERNEL_SET(generic)
