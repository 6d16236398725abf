// The embedded CPython interpreter: started lazily once, GIL released between calls, errors as text.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace attnbench::python {

namespace py = pybind11;

// Starts the interpreter on first use (idempotent, thread-safe), puts the shipped
// module folder on sys.path and releases the GIL. Callers then hold the GIL only
// around their calls with py::gil_scoped_acquire. Throws std::runtime_error when
// the interpreter cannot start or NumPy is missing.
void ensure_interpreter();

// The folder of the shipped modules (backends/python/modules, or $ATTNBENCH_PYTHON_PATH).
std::string modules_dir();

// One line for a Python exception: "file.py:LINE: TypeName: message" (innermost frame).
// Call with the GIL held.
std::string describe_error(py::error_already_set& e);

// Whether the exception means the device or host ran out of memory (torch.cuda.OutOfMemoryError,
// MemoryError).
bool is_out_of_memory(py::error_already_set& e);

// Imports a Python file under a private module name (its folder joins sys.path, so
// it can import its neighbours). Call with the GIL held; raises error_already_set.
py::module_ import_file(const std::string& path);

}  // namespace attnbench::python
