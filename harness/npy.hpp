// Minimal NumPy .npy (format 1.0) writer for tensor and mask dumps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnbench {

// dtype: a NumPy descr such as "<f4" or "|u1"; data: shape-product elements, C order.
void write_npy(const std::string& path, const std::string& dtype, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes);

}  // namespace attnbench
