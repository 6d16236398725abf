// Pinned host and device buffers that grow per slot, and the converting copies of CUDA chunk kernels.
#include "backends/cuda/common/chunk_staging.hpp"

#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/common/dtype_convert.hpp"

namespace attnbench::cuda {

ChunkStaging::ChunkStaging() {
  ATTNBENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

ChunkStaging::~ChunkStaging() {
  // Chunk kernels live in the backend registry, so this can run at process exit
  // after the CUDA runtime has unloaded; the errors then mean nothing (the memory
  // goes with the process) and are not reported.
  for (Slot& s : slots_) {
    if (s.host != nullptr) cudaFreeHost(s.host);
    if (s.dev != nullptr) cudaFree(s.dev);
  }
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

ChunkStaging::Slot& ChunkStaging::at(int slot) {
  if (slot < 0 || slot >= kSlots)
    throw std::out_of_range("ChunkStaging: slot " + std::to_string(slot) + " (accepted: 0.." +
                            std::to_string(kSlots - 1) + ")");
  return slots_[static_cast<std::size_t>(slot)];
}

void* ChunkStaging::device(int slot, std::size_t bytes) {
  Slot& s = at(slot);
  if (bytes > s.dev_bytes) {
    // The stream may still read the old buffer.
    ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (s.dev != nullptr) ATTNBENCH_CUDA_CHECK(cudaFree(s.dev));
    s.dev = nullptr;
    s.dev_bytes = 0;
    const cudaError_t err = cudaMalloc(&s.dev, bytes);
    if (err != cudaSuccess) {
      cudaGetLastError();
      s.dev = nullptr;
      throw OutOfMemory("chunk kernel: cudaMalloc of " + std::to_string(bytes) +
                        " bytes failed: " + cudaGetErrorString(err));
    }
    s.dev_bytes = bytes;
  }
  return s.dev;
}

void* ChunkStaging::pinned(int slot, std::size_t bytes) {
  Slot& s = at(slot);
  if (bytes > s.host_bytes) {
    ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (s.host != nullptr) ATTNBENCH_CUDA_CHECK(cudaFreeHost(s.host));
    s.host = nullptr;
    s.host_bytes = 0;
    const cudaError_t err = cudaMallocHost(&s.host, bytes);
    if (err != cudaSuccess) {
      cudaGetLastError();
      s.host = nullptr;
      throw OutOfMemory("chunk kernel: cudaMallocHost of " + std::to_string(bytes) +
                        " bytes failed: " + cudaGetErrorString(err));
    }
    s.host_bytes = bytes;
  }
  return s.host;
}

void* ChunkStaging::upload(int slot, DType dtype, const float* src, std::size_t n) {
  const std::size_t bytes = n * DeviceTensor::element_size(dtype);
  void* dev = device(slot, bytes);
  if (n == 0) return dev;
  // The previous copy out of this pinned buffer may still be in flight.
  ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  void* host = pinned(slot, bytes);
  convert_from_float(dtype, std::span<const float>(src, n), host);
  ATTNBENCH_CUDA_CHECK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream_));
  return dev;
}

void* ChunkStaging::upload_bytes(int slot, const void* src, std::size_t bytes) {
  void* dev = device(slot, bytes);
  if (bytes == 0) return dev;
  ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  void* host = pinned(slot, bytes);
  std::memcpy(host, src, bytes);
  ATTNBENCH_CUDA_CHECK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream_));
  return dev;
}

void ChunkStaging::download(int slot, DType dtype, const void* dev, std::size_t n, float* dst) {
  if (n == 0) return;
  const std::size_t bytes = n * DeviceTensor::element_size(dtype);
  void* host = pinned(slot, bytes);
  ATTNBENCH_CUDA_CHECK(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream_));
  ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  convert_to_float(dtype, host, std::span<float>(dst, n));
}

}  // namespace attnbench::cuda
