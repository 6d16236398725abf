// Pinned host staging between the fp32 host chunks of CP strategies and a CUDA chunk kernel's device tensors.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>

#include "attnbench/backend.hpp"
#include "attnbench/types.hpp"

namespace attnbench::cuda {

// A chunk pair as a whole problem: nq queries attending nk keys.
inline Shape chunk_shape(const ChunkTask& t) {
  return {t.batch, t.heads_q, t.heads_kv, t.nq, t.nk, t.head_dim};
}

// A CP strategy hands a chunk kernel fp32 host buffers of varying size, one
// chunk pair at a time. ChunkStaging keeps, per numbered slot, a page-locked
// host buffer and a device buffer that both grow to the largest chunk seen and
// are reused, so a chunk costs its copies and kernels, not allocations.
// Uploads convert to the device dtype in pinned memory and copy asynchronously
// on the staging stream; downloads wait for the stream, then convert back.
// Not thread-safe: a chunk kernel serialises its calls (ChunkKernel is const).
// Device memory here is not charged to a case's MemoryTracker: chunk kernels
// have none (the CP runner accounts host memory only).
class ChunkStaging {
 public:
  static constexpr int kSlots = 20;

  ChunkStaging();
  ~ChunkStaging();
  ChunkStaging(const ChunkStaging&) = delete;
  ChunkStaging& operator=(const ChunkStaging&) = delete;

  cudaStream_t stream() const noexcept { return stream_; }

  // Device memory of `slot`, at least `bytes` (contents kept only while it does not grow).
  void* device(int slot, std::size_t bytes);
  // Converts n fp32 values to `dtype` and copies them into `slot`'s device memory
  // (asynchronously, on stream()); returns that device pointer.
  void* upload(int slot, DType dtype, const float* src, std::size_t n);
  // Copies `bytes` raw bytes (indices, bitmasks) into `slot`'s device memory, as upload().
  void* upload_bytes(int slot, const void* src, std::size_t bytes);
  // Copies n `dtype` values at `dev` back through `slot`'s pinned buffer, waits
  // for the stream, and converts them to fp32 into dst.
  void download(int slot, DType dtype, const void* dev, std::size_t n, float* dst);

 private:
  struct Slot {
    void* host = nullptr;  // cudaMallocHost
    void* dev = nullptr;   // cudaMalloc
    std::size_t host_bytes = 0, dev_bytes = 0;
  };
  void* pinned(int slot, std::size_t bytes);
  Slot& at(int slot);
  // Grows one buffer of a slot (after the stream has finished with the old one).
  void grow(void*& ptr, std::size_t& capacity, std::size_t bytes, bool host);

  cudaStream_t stream_ = nullptr;
  std::array<Slot, kSlots> slots_{};
};

// Base of the CUDA chunk kernels: one ChunkStaging per kernel, created on first
// use (backends are registered before any CUDA call may be made), and a lock
// that serialises calls (ChunkKernel's methods are const and share the staging).
class StagedChunkKernel : public ChunkKernel {
 protected:
  struct Lease {
    std::unique_lock<std::mutex> lock;
    ChunkStaging& staging;
  };
  Lease lease() const;

 private:
  mutable std::mutex mutex_;
  mutable std::unique_ptr<ChunkStaging> staging_;
};

}  // namespace attnbench::cuda
