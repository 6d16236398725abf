// Tracked memory: every tensor of a case is charged to a budget, and the peak is reported.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "attnbench/types.hpp"

namespace attnbench {

// Counts live and peak bytes against a budget. reserve() throws OutOfMemory
// *before* anything is allocated, so a backend that would swap or crash past
// the budget yields an `oom` row instead.
class MemoryTracker {
 public:
  explicit MemoryTracker(std::size_t budget_bytes = SIZE_MAX) : budget_(budget_bytes) {}
  void reserve(std::size_t bytes);
  void release(std::size_t bytes) noexcept;
  void reset_peak() noexcept { peak_.store(live_.load()); }
  std::size_t live() const noexcept { return live_.load(); }
  std::size_t peak() const noexcept { return peak_.load(); }
  std::size_t budget() const noexcept { return budget_; }
  void set_budget(std::size_t b) noexcept { budget_ = b; }

 private:
  std::atomic<std::size_t> live_{0};
  std::atomic<std::size_t> peak_{0};
  std::size_t budget_;
};

// An owning host array charged to a tracker (64-byte aligned for vector loads).
template <class T>
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(std::size_t count, MemoryTracker& tracker) : count_(count), tracker_(&tracker) {
    tracker_->reserve(bytes());
    data_ = static_cast<T*>(::operator new[](bytes() == 0 ? 1 : bytes(), std::align_val_t{64}, std::nothrow));
    if (data_ == nullptr) {
      tracker_->release(bytes());
      throw OutOfMemory("host allocation failed");
    }
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  HostBuffer(HostBuffer&& o) noexcept { swap(o); }
  HostBuffer& operator=(HostBuffer&& o) noexcept {
    HostBuffer tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~HostBuffer() {
    if (data_ != nullptr) {
      ::operator delete[](data_, std::align_val_t{64});
      tracker_->release(bytes());
    }
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return count_ * sizeof(T); }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() noexcept { return {data_, count_}; }
  std::span<const T> span() const noexcept { return {data_, count_}; }

 private:
  void swap(HostBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    std::swap(tracker_, o.tracker_);
  }
  T* data_ = nullptr;
  std::size_t count_ = 0;
  MemoryTracker* tracker_ = nullptr;
};

}  // namespace attnbench
