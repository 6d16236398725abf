// The `attnbench_native` module seen by Python backends: the mask accessors and zero-copy arrays.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::python {

namespace py = pybind11;

// A read-only float32 NumPy array over harness memory (no copy): `owner` keeps
// nothing alive, so the caller guarantees the buffer outlives the array.
py::array borrowed_array(const float* data, const std::vector<std::int64_t>& shape);

// A NumPy array that owns `values` (moved into a capsule, no copy).
template <class T>
py::array owned_array(std::vector<T>&& values, const std::vector<std::int64_t>& shape) {
  auto* heap = new std::vector<T>(std::move(values));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), heap->data(), owner);
}

// The Python view of a mask (class attnbench_native.Mask).
py::object mask_object(const MaskPtr& mask);

}  // namespace attnbench::python
