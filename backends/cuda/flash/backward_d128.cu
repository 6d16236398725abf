// cuda.flash backward instantiations for head dim 128 (one file per head dim keeps builds parallel).
#include "backends/cuda/flash/backward.cuh"

namespace attnbench::cuda::flash {

void launch_backward_d128(DType dtype, const BackwardArgs& args, cudaStream_t stream) {
  if (dtype == DType::bf16)
    launch_backward_typed<__nv_bfloat16, 128>(args, stream);
  else
    launch_backward_typed<__half, 128>(args, stream);
}

}  // namespace attnbench::cuda::flash
