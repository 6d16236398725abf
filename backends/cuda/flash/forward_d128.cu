// cuda.flash forward instantiations for head dim 128 (one file per head dim keeps builds parallel).
#include "backends/cuda/flash/forward.cuh"

namespace attnbench::cuda::flash {

// Both warp layouts (16 rows per warp with Q in registers, or 32 rows per warp) for A/B timing.
void launch_forward_d128(DType dtype, int warp_rows, const ForwardArgs& args, cudaStream_t stream) {
  const bool bf16 = dtype == DType::bf16;
  if (warp_rows == 32) {
    if (bf16)
      launch_forward_typed<__nv_bfloat16, 128, 2>(args, stream);
    else
      launch_forward_typed<__half, 128, 2>(args, stream);
  } else {
    if (bf16)
      launch_forward_typed<__nv_bfloat16, 128, 1>(args, stream);
    else
      launch_forward_typed<__half, 128, 1>(args, stream);
  }
}

}  // namespace attnbench::cuda::flash
