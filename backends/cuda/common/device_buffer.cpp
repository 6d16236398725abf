// Type-erased device tensors: dtype dispatch of the host-side conversions.
#include "backends/cuda/common/device_buffer.hpp"

#include <cstring>
#include <stdexcept>

namespace attnbench::cuda {

std::size_t DeviceTensor::element_size(DType dtype) {
  switch (dtype) {
    case DType::fp32: return sizeof(float);
    case DType::bf16: return sizeof(__nv_bfloat16);
    case DType::fp16: return sizeof(__half);
    default: throw std::invalid_argument("DeviceTensor: dtype fp64 is not a device storage type");
  }
}

void DeviceTensor::upload(std::span<const float> src) {
  if (src.size() != count_) {
    throw std::invalid_argument("DeviceTensor::upload: " + std::to_string(src.size()) +
                                " values into a tensor of " + std::to_string(count_));
  }
  if (count_ == 0) return;
  std::vector<unsigned char> staged(bytes());
  convert_from_float(dtype_, src, staged.data());
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(data(), staged.data(), bytes(), cudaMemcpyHostToDevice));
}

std::vector<float> DeviceTensor::download() const {
  std::vector<float> out(count_);
  if (count_ == 0) return out;
  std::vector<unsigned char> staged(bytes());
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(staged.data(), data(), bytes(), cudaMemcpyDeviceToHost));
  convert_to_float(dtype_, staged.data(), out);
  return out;
}

}  // namespace attnbench::cuda
