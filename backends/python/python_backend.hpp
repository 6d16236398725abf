// A backend whose kernel is a Python module: the harness owns inputs, timing and checks; Python runs the
// call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "attnbench/backend.hpp"
#include "backends/python/module_protocol.hpp"

namespace attnbench::python {

class PythonBackend final : public Backend {
 public:
  // A user's file, loaded and checked when the scenario named it.
  explicit PythonBackend(std::shared_ptr<LoadedModule> module);
  // A shipped module, loaded on first use; `stub` answers info() until then, so
  // listing backends never starts Python.
  PythonBackend(BackendInfo stub, std::string path);

  BackendInfo info() const override;
  Support supports(const Problem& p) const override;
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override;

 private:
  // The module, loading it on first call; nullptr when it cannot load (load_error_ says why).
  const LoadedModule* module() const;

  BackendInfo stub_;
  std::string path_;
  mutable std::once_flag load_once_;
  mutable std::shared_ptr<LoadedModule> module_;
  mutable std::string load_error_;
  // supports() raised in Python: prepare() turns it into an `error` row.
  mutable std::string pending_error_;
};

}  // namespace attnbench::python
