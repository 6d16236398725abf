// cuda.flash forward instantiations for head dim 64 (one file per head dim keeps builds parallel).
#include "backends/cuda/flash/forward.cuh"

namespace attnbench::cuda::flash {

// Head dim 64 has one warp layout: 16 rows per warp, Q in registers.
void launch_forward_d64(DType dtype, int warp_rows, const ForwardArgs& args, cudaStream_t stream) {
  if (warp_rows != 16) throw std::invalid_argument("cuda.flash: head_dim 64 runs with 16 rows per warp only");
  if (dtype == DType::bf16)
    launch_forward_typed<__nv_bfloat16, 64, 1>(args, stream);
  else
    launch_forward_typed<__half, 64, 1>(args, stream);
}

}  // namespace attnbench::cuda::flash
