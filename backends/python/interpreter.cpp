// Starts the embedded interpreter once and turns Python exceptions into one-line messages.
#include "backends/python/interpreter.hpp"

#include <fmt/format.h>
#include <pybind11/embed.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace attnbench::python {

std::string modules_dir() {
  if (const char* env = std::getenv("ATTNBENCH_PYTHON_PATH"); env != nullptr && *env != '\0') return env;
  return ATTNBENCH_PYTHON_MODULES_DIR;
}

namespace {

// The activated venv ($VIRTUAL_ENV), or null when none is.
const char* active_venv() {
  const char* venv = std::getenv("VIRTUAL_ENV");
  return venv != nullptr && *venv != '\0' ? venv : nullptr;
}

// Where a venv for the embedded Python X.Y keeps its packages.
std::string venv_site_packages(const char* venv) {
  return fmt::format("{}/lib/python{}.{}/site-packages", venv, PY_MAJOR_VERSION, PY_MINOR_VERSION);
}

// Why an activated venv adds nothing: its packages are for another Python X.Y than the embedded one.
// Empty when $VIRTUAL_ENV is unset or fits.
std::string venv_mismatch() {
  const char* venv = active_venv();
  if (venv == nullptr) return {};
  const std::string site = venv_site_packages(venv);
  std::error_code ec;
  if (std::filesystem::is_directory(site, ec)) return {};
  return fmt::format(
      " (the activated venv {} has no {}: it is not a Python {}.{} venv, the version this "
      "attnbench embeds)",
      venv, site, PY_MAJOR_VERSION, PY_MINOR_VERSION);
}

}  // namespace

void ensure_interpreter() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    if (Py_IsInitialized() == 0) {
      // No signal handlers: Ctrl-C stays with the harness.
      py::initialize_interpreter(false);
    }
    try {
      py::module_ sys = py::module_::import("sys");
      sys.attr("path").attr("insert")(0, modules_dir());
      sys.attr("dont_write_bytecode") = true;  // keep the source tree clean
      // An embedded interpreter ignores an activated venv (its prefix is the base
      // install): add the venv's packages, so `pip install torch` there is seen.
      if (const char* venv = active_venv(); venv != nullptr)
        py::module_::import("site").attr("addsitedir")(venv_site_packages(venv));
      py::module_::import("numpy");
    } catch (py::error_already_set& e) {
      failure =
          "the embedded Python cannot import its support modules: " + describe_error(e) + venv_mismatch();
    }
    // Release the GIL for good: every call takes it with gil_scoped_acquire.
    // Leaked on purpose: the interpreter lives until the process exits (torch
    // and CUDA do not survive Py_Finalize and re-initialisation).
    new py::gil_scoped_release();
  });
  if (!failure.empty()) throw std::runtime_error(failure);
}

std::string describe_error(py::error_already_set& e) {
  std::string type = "Exception";
  std::string message;
  std::string where;
  try {
    if (e.type()) type = py::str(e.type().attr("__name__"));
    if (e.value()) message = py::str(e.value());
    // Walk to the innermost traceback frame: that is where the backend failed.
    py::object tb = e.trace() ? py::reinterpret_borrow<py::object>(e.trace()) : py::none();
    py::object last = py::none();
    while (!tb.is_none()) {
      last = tb;
      tb = tb.attr("tb_next");
    }
    if (!last.is_none()) {
      const std::string file = py::str(last.attr("tb_frame").attr("f_code").attr("co_filename"));
      const int line = last.attr("tb_lineno").cast<int>();
      where = fmt::format("{}:{}: ", std::filesystem::path(file).filename().string(), line);
    }
  } catch (...) {
    return e.what();
  }
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return fmt::format("{}{}: {}", where, type, message);
}

bool is_out_of_memory(py::error_already_set& e) {
  if (e.matches(PyExc_MemoryError)) return true;
  try {
    const std::string name = py::str(e.type().attr("__name__"));
    return name == "OutOfMemoryError";
  } catch (...) {
    return false;
  }
}

py::module_ import_file(const std::string& path) {
  py::module_ helper = py::module_::import("_attnbench");
  return helper.attr("import_file")(path).cast<py::module_>();
}

}  // namespace attnbench::python
