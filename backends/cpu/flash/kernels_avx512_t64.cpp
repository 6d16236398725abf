// cpu.flash kernels for AVX-512F with 64-row query tiles: the variant for masks that differ per
// (batch, head) (dynamic selectors, per-head groups, padded batches), whose 64-token blocks a 96-row
// tile would straddle, turning kept blocks into partial tiles (docs/cpu-kernels.md).
#include "simd_avx512.hpp"
namespace attnbench::cpu::flash::avx512_t64 {
using Simd = avx512::Simd;  // the same traits, in this variant's own namespace
}  // namespace attnbench::cpu::flash::avx512_t64
#define ATTNBENCH_FLASH_NS avx512_t64
#define ATTNBENCH_FLASH_TILE_Q 64
#include "flash_impl.hpp"

ATTNBENCH_FLASH_KERNEL_SET(avx512_t64)
