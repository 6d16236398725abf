// Device memory charged to a MemoryTracker, and fp32 host ↔ bf16/fp16/fp32 device transfers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "attnbench/memory.hpp"
#include "attnbench/types.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/dtype_convert.hpp"

namespace attnbench::cuda {

// Allocates count elements with cudaMalloc after charging their bytes to the
// tracker (so a case past its budget is `oom` before the device is touched).
// A failed cudaMalloc also becomes OutOfMemory. Contents are uninitialised.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t count, MemoryTracker* tracker) : count_(count), tracker_(tracker) {
    if (count_ == 0) return;
    if (tracker_ != nullptr) tracker_->reserve(bytes());
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes());
    if (err != cudaSuccess) {
      cudaGetLastError();
      if (tracker_ != nullptr) tracker_->release(bytes());
      throw OutOfMemory("cudaMalloc of " + std::to_string(bytes()) +
                        " bytes failed: " + cudaGetErrorString(err));
    }
    data_ = static_cast<T*>(p);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    DeviceBuffer tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~DeviceBuffer() { reset(); }

  void reset() noexcept {
    if (data_ != nullptr) {
      ATTNBENCH_CUDA_CHECK_NOTHROW(cudaFree(data_));
      if (tracker_ != nullptr) tracker_->release(bytes());
    }
    data_ = nullptr;
    count_ = 0;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return count_ * sizeof(T); }
  bool empty() const noexcept { return count_ == 0; }

  void zero(cudaStream_t stream) {
    if (count_ != 0) ATTNBENCH_CUDA_CHECK(cudaMemsetAsync(data_, 0, bytes(), stream));
  }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    std::swap(tracker_, o.tracker_);
  }
  T* data_ = nullptr;
  std::size_t count_ = 0;
  MemoryTracker* tracker_ = nullptr;
};

// Copies fp32 host values into a device buffer of T, converting on the host.
// Synchronous: meant for prepare(), outside the timed region.
template <class T>
void upload(DeviceBuffer<T>& dst, std::span<const float> src) {
  if (src.size() != dst.size()) {
    throw std::invalid_argument("upload: " + std::to_string(src.size()) + " values into a buffer of " +
                                std::to_string(dst.size()));
  }
  if (src.empty()) return;
  std::vector<T> staged(src.size());
  convert_from_float<T>(src, staged);
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(dst.data(), staged.data(), dst.bytes(), cudaMemcpyHostToDevice));
}

// Copies a device buffer of T back as fp32 host values (synchronous).
template <class T>
std::vector<float> download(const DeviceBuffer<T>& src) {
  std::vector<float> out(src.size());
  if (src.empty()) return out;
  std::vector<T> staged(src.size());
  ATTNBENCH_CUDA_CHECK(cudaMemcpy(staged.data(), src.data(), src.bytes(), cudaMemcpyDeviceToHost));
  convert_to_float<T>(staged, out);
  return out;
}

// Copies host values (indices, offsets, schedules) into a new device buffer of the
// same type, charged to the tracker (synchronous, for prepare()).
template <class T>
DeviceBuffer<T> upload_vector(const std::vector<T>& host, MemoryTracker* tracker) {
  DeviceBuffer<T> buf(host.size(), tracker);
  if (!host.empty())
    ATTNBENCH_CUDA_CHECK(cudaMemcpy(buf.data(), host.data(), buf.bytes(), cudaMemcpyHostToDevice));
  return buf;
}

// A device tensor whose element type is chosen at run time (the case's dtype):
// what backends that switch on the dtype in one code path hold.
class DeviceTensor {
 public:
  DeviceTensor() = default;
  DeviceTensor(DType dtype, std::size_t count, MemoryTracker* tracker)
      : dtype_(dtype), count_(count), raw_(count * element_size(dtype), tracker) {}

  static std::size_t element_size(DType dtype);

  DType dtype() const noexcept { return dtype_; }
  std::size_t size() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return raw_.bytes(); }
  void* data() noexcept { return raw_.data(); }
  const void* data() const noexcept { return raw_.data(); }

  void zero(cudaStream_t stream) { raw_.zero(stream); }
  void upload(std::span<const float> src);  // converts to dtype() on the host, synchronous
  std::vector<float> download() const;      // converts to fp32 on the host, synchronous

 private:
  DType dtype_ = DType::fp32;
  std::size_t count_ = 0;
  DeviceBuffer<unsigned char> raw_;
};

}  // namespace attnbench::cuda
