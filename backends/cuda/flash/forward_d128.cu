// cuda.flash forward instantiations for head dim 128 (one file per head dim keeps builds parallel).
#include "backends/cuda/flash/forward.cuh"

namespace attnbench::cuda_flash {

void launch_forward_d128(DType dtype, const ForwardArgs& args, cudaStream_t stream) {
  if (dtype == DType::bf16)
    launch_forward_typed<__nv_bfloat16, 128>(args, stream);
  else
    launch_forward_typed<__half, 128>(args, stream);
}

}  // namespace attnbench::cuda_flash
