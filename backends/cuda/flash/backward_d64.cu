// cuda.flash backward instantiations for head dim 64 (one file per head dim keeps builds parallel).
#include "backends/cuda/flash/backward.cuh"

namespace attnbench::cuda::flash {

void launch_backward_d64(DType dtype, const BackwardArgs& args, cudaStream_t stream) {
  if (dtype == DType::bf16)
    launch_backward_typed<__nv_bfloat16, 64>(args, stream);
  else
    launch_backward_typed<__half, 64>(args, stream);
}

}  // namespace attnbench::cuda::flash
