// MemoryTracker: charges allocations to the case's budget and records the peak.
#include "attnbench/memory.hpp"

#include <string>

namespace attnbench {

void MemoryTracker::reserve(std::size_t bytes) {
  std::size_t live = live_.load();
  do {
    if (bytes > budget_ || live > budget_ - bytes)
      throw OutOfMemory("allocation of " + std::to_string(bytes) + " bytes exceeds the memory budget (" +
                        std::to_string(budget_) + " bytes, " + std::to_string(live) + " live)");
  } while (!live_.compare_exchange_weak(live, live + bytes));
  std::size_t now = live + bytes;
  std::size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
}

void MemoryTracker::release(std::size_t bytes) noexcept { live_.fetch_sub(bytes); }

}  // namespace attnbench
