// Pinned host and device buffers that grow per slot, and the converting copies of CUDA chunk kernels.
#include "backends/cuda/common/chunk_staging.hpp"

#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

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

void ChunkStaging::grow(void*& ptr, std::size_t& capacity, std::size_t bytes, bool host) {
  // The stream may still read the old buffer.
  ATTNBENCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (ptr != nullptr) ATTNBENCH_CUDA_CHECK(host ? cudaFreeHost(ptr) : cudaFree(ptr));
  ptr = nullptr;
  capacity = 0;
  const cudaError_t err = host ? cudaMallocHost(&ptr, bytes) : cudaMalloc(&ptr, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    ptr = nullptr;
    throw OutOfMemory(std::string("chunk kernel: ") + (host ? "cudaMallocHost" : "cudaMalloc") + " of " +
                      std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(err));
  }
  capacity = bytes;
}

void* ChunkStaging::device(int slot, std::size_t bytes) {
  Slot& s = at(slot);
  if (bytes > s.dev_bytes) grow(s.dev, s.dev_bytes, bytes, false);
  return s.dev;
}

void* ChunkStaging::pinned(int slot, std::size_t bytes) {
  Slot& s = at(slot);
  if (bytes > s.host_bytes) grow(s.host, s.host_bytes, bytes, true);
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

StagedChunkKernel::Lease StagedChunkKernel::lease() const {
  std::unique_lock lock(mutex_);
  if (!staging_) staging_ = std::make_unique<ChunkStaging>();
  return {std::move(lock), *staging_};
}

}  // namespace attnbench::cuda
