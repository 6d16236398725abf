// The FlashAttention-2 algorithm on the CPU, written once over a SIMD traits class `Simd`.
//
// Included by exactly one translation unit per ISA, after that ISA's traits and
// with ATTNBENCH_FLASH_NS naming its namespace, so every function here is a
// distinct symbol per ISA (no inline function is shared between the variants).
// No standard-library templates are used on purpose, for the same reason.
//
// The algorithm is split by idea: flash_impl_gemm.hpp (packing, GEMM), flash_impl_softmax.hpp
// (masking, online softmax), flash_impl_forward.hpp, flash_impl_decode.hpp (few queries) and
// flash_impl_backward.hpp; this file adds the micro-benchmark entry points and the KernelSet of one ISA.

#ifndef ATTNBENCH_FLASH_NS
#error "define ATTNBENCH_FLASH_NS before including flash_impl.hpp"
#endif

#include "flash_impl_gemm.hpp"
#include "flash_impl_softmax.hpp"
#include "flash_impl_forward.hpp"
#include "flash_impl_decode.hpp"
#include "flash_impl_backward.hpp"

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

// The inner pieces alone, on one full tile, for the micro-benchmarks.
inline void tile_scores(const float* q_rows, const float* k_keys, i64 head_dim, float* scores) {
  gemm<AMode::panels, Acc::set>(kTileQ, kTileK, head_dim, q_rows, MR, k_keys, NR, head_dim * NR, scores,
                                kTileK, nullptr);
}
inline void tile_softmax(float* scores, float scale, float* m, float* l, float* alpha) {
  online_softmax_tile(scores, kTileQ, kTileK, scale * kLog2e, nullptr, 0, m, l, alpha);
}
inline void tile_pv(const float* probs, const float* v_cols, i64 head_dim, const float* alpha, float* o) {
  const i64 Dp = padded_dim(head_dim);
  gemm<AMode::rows, Acc::scale_add>(kTileQ, Dp, kTileK, probs, kTileK, v_cols, NR, kTileK * NR, o, Dp, alpha);
}

constexpr KernelSet make_kernel_set(const char* isa) {
  KernelSet set{};
  set.isa = isa;
  set.tile_q = kTileQ;
  set.tile_k = kTileK;
  set.forward_workspace = &forward_workspace;
  set.backward_workspace = &backward_workspace;
  set.forward = &forward;
  set.decode_workspace = &decode_workspace;
  set.decode_forward = &decode_forward;
  set.backward = &backward;
  set.tile_scores = &tile_scores;
  set.tile_softmax = &tile_softmax;
  set.tile_pv = &tile_pv;
  return set;
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS

// The one entry point of an ISA's translation unit, `const KernelSet& kernels_<isa>()`. The set
// is constant-initialised, so calling it runs no instruction of that ISA: the dispatcher may ask
// on any CPU.
#define ATTNBENCH_FLASH_KERNEL_SET(isa)                                         \
  namespace attnbench::cpu::flash {                                             \
  const KernelSet& kernels_##isa() {                                            \
    static constexpr KernelSet set = ATTNBENCH_FLASH_NS::make_kernel_set(#isa); \
    return set;                                                                 \
  }                                                                             \
  }
