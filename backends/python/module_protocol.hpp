// The Python backend protocol: loading a module file, checking its functions, reading describe().
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "attnbench/backend.hpp"

namespace attnbench::python {

namespace py = pybind11;

// A module that follows the protocol (docs/python-backends.md):
//   describe() -> dict, supports(case) -> True | str (optional),
//   prepare(case, q, k, v, dout, mask) -> state,
//   forward(state) -> (o, lse), backward(state) -> (dq, dk, dv)   or run(state, pass),
//   timed_run(state, pass) -> seconds (optional: a module that times itself).
struct LoadedModule {
  std::string path;
  BackendInfo info;
  py::object module;
  py::object supports, prepare, forward, backward, run, timed_run;  // None when absent
  ~LoadedModule();  // leaks the references: the interpreter outlives every backend
};

// Imports `path` and checks it against the protocol. Throws InputError
// ("FILE: does not follow the backend protocol: ...") for a missing or wrong
// function or describe() field, and for a module that fails to import.
std::shared_ptr<LoadedModule> load_module(const std::string& path);

// describe()'s dict as a BackendInfo; `where` names the file in errors. GIL held.
BackendInfo parse_describe(const py::handle& desc, const std::string& where);

}  // namespace attnbench::python
