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

namespace {
template <class T>
void upload_as(void* dst, std::span<const float> src) {
  std::vector<T> staged(src.size());
  convert_from_float<T>(src, staged);
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(dst, staged.data(), staged.size() * sizeof(T),
                                  cudaMemcpyHostToDevice));
}
template <class T>
void download_as(const void* src, std::span<float> out) {
  std::vector<T> staged(out.size());
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(staged.data(), src, staged.size() * sizeof(T),
                                  cudaMemcpyDeviceToHost));
  convert_to_float<T>(staged, out);
}
}  // namespace

void DeviceTensor::upload(std::span<const float> src) {
  if (src.size() != count_) {
    throw std::invalid_argument("DeviceTensor::upload: " + std::to_string(src.size()) +
                                " values into a tensor of " + std::to_string(count_));
  }
  if (count_ == 0) return;
  switch (dtype_) {
    case DType::fp32: upload_as<float>(data(), src); break;
    case DType::bf16: upload_as<__nv_bfloat16>(data(), src); break;
    case DType::fp16: upload_as<__half>(data(), src); break;
    default: break;
  }
}

std::vector<float> DeviceTensor::download() const {
  std::vector<float> out(count_);
  if (count_ == 0) return out;
  switch (dtype_) {
    case DType::fp32: download_as<float>(data(), out); break;
    case DType::bf16: download_as<__nv_bfloat16>(data(), out); break;
    case DType::fp16: download_as<__half>(data(), out); break;
    default: break;
  }
  return out;
}

}  // namespace attnbench::cuda
