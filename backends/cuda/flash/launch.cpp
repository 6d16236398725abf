// Dispatch of cuda.flash launches to the per-head-dim instantiation files.
#include <stdexcept>
#include <string>

#include "backends/cuda/flash/params.hpp"

namespace attnbench::cuda::flash {

void launch_forward_d64(DType, int warp_rows, const ForwardArgs&, cudaStream_t);
void launch_forward_d128(DType, int warp_rows, const ForwardArgs&, cudaStream_t);
void launch_backward_d64(DType, const BackwardArgs&, cudaStream_t);
void launch_backward_d128(DType, const BackwardArgs&, cudaStream_t);

namespace {
void check(DType dtype, int head_dim) {
  if (dtype != DType::bf16 && dtype != DType::fp16)
    throw std::invalid_argument("cuda.flash: dtype " + std::string(to_string(dtype)) +
                                " (accepted: bf16, fp16)");
  if (head_dim != 64 && head_dim != 128)
    throw std::invalid_argument("cuda.flash: head_dim " + std::to_string(head_dim) + " (accepted: 64, 128)");
}
}  // namespace

void launch_forward(DType dtype, int head_dim, int warp_rows, const ForwardArgs& args, cudaStream_t stream) {
  check(dtype, head_dim);
  if (warp_rows != 16 && warp_rows != 32)
    throw std::invalid_argument("cuda.flash: warp_rows " + std::to_string(warp_rows) + " (accepted: 16, 32)");
  if (head_dim == 64)
    launch_forward_d64(dtype, warp_rows, args, stream);
  else
    launch_forward_d128(dtype, warp_rows, args, stream);
}

void launch_backward(DType dtype, int head_dim, const BackwardArgs& args, cudaStream_t stream) {
  check(dtype, head_dim);
  if (head_dim == 64)
    launch_backward_d64(dtype, args, stream);
  else
    launch_backward_d128(dtype, args, stream);
}

}  // namespace attnbench::cuda::flash
