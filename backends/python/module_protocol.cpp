// Loads a Python backend module and holds it to the protocol, with one clear error per violation.
#include "backends/python/module_protocol.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "backends/python/interpreter.hpp"

namespace attnbench::python {

namespace {

constexpr const char* kSeeDocs = " (see docs/python-backends.md)";

[[noreturn]] void violation(const std::string& where, const std::string& what) {
  throw InputError(fmt::format("{}: does not follow the backend protocol: {}{}", where, what, kSeeDocs));
}

std::vector<std::string> string_list(const py::handle& v, const std::string& where, const std::string& key) {
  if (!py::isinstance<py::list>(v) && !py::isinstance<py::tuple>(v))
    violation(where, fmt::format("describe()['{}'] must be a list of strings", key));
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!py::isinstance<py::str>(x))
      violation(where, fmt::format("describe()['{}'] must be a list of strings", key));
    out.push_back(x.cast<std::string>());
  }
  return out;
}

// A list of names of enum E (DType, Pass); a name it does not know is a violation listing its values.
template <class E>
std::vector<E> parsed_list(const py::handle& v, const std::string& where, const std::string& key) {
  std::vector<E> out;
  for (const auto& s : string_list(v, where, key)) {
    std::optional<E> x;
    for (E e : all_values<E>())
      if (to_string(e) == s) x = e;
    if (!x)
      violation(where, fmt::format("describe()['{}'] has '{}' (accepted: {})", key, s, accepted_names<E>()));
    out.push_back(*x);
  }
  return out;
}

std::string text(const py::handle& v, const std::string& where, const std::string& key) {
  if (!py::isinstance<py::str>(v)) violation(where, fmt::format("describe()['{}'] must be a string", key));
  return v.cast<std::string>();
}

double number(const py::handle& v, const std::string& where, const std::string& key) {
  if (!py::isinstance<py::float_>(v) && !py::isinstance<py::int_>(v))
    violation(where, fmt::format("describe()['{}'] must be a number", key));
  return v.cast<double>();
}

py::object optional_callable(const py::module_& m, const char* name, const std::string& where) {
  if (!py::hasattr(m, name)) return py::none();
  py::object f = m.attr(name);
  if (f.is_none()) return f;
  if (!PyCallable_Check(f.ptr())) violation(where, fmt::format("'{}' is not a function", name));
  return f;
}

}  // namespace

LoadedModule::~LoadedModule() {
  // Dropping these would need the GIL, possibly at process exit; the module
  // stays in sys.modules anyway, so keeping the references costs nothing.
  for (py::object* o : {&module, &supports, &prepare, &forward, &backward, &run, &timed_run}) o->release();
}

BackendInfo parse_describe(const py::handle& desc, const std::string& where) {
  if (!py::isinstance<py::dict>(desc)) violation(where, "describe() must return a dict");
  static const std::vector<std::string> accepted = {
      "name",  "device", "description", "dtypes",     "head_dims",     "head_dim_multiple",
      "masks", "passes", "gqa",         "head_masks", "tolerance_fwd", "tolerance_bwd"};
  BackendInfo info;
  info.dtypes = {DType::fp32};
  bool has_name = false, has_passes = false;
  for (const auto& [k, v] : desc.cast<py::dict>()) {
    const std::string key = py::str(k);
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
      violation(where, fmt::format("describe() has an unknown key '{}' (accepted: {})", key,
                                   fmt::join(accepted, ", ")));
    if (key == "name") {
      info.name = text(v, where, key);
      has_name = !info.name.empty();
    } else if (key == "device") {
      const std::string d = text(v, where, key);
      if (d == "cpu")
        info.device = Device::cpu;
      else if (d == "cuda")
        info.device = Device::cuda;
      else
        violation(where,
                  fmt::format("describe()['device'] is '{}' (accepted: {})", d, accepted_names<Device>()));
    } else if (key == "description") {
      info.description = text(v, where, key);
    } else if (key == "dtypes") {
      info.dtypes = parsed_list<DType>(v, where, key);
    } else if (key == "head_dims") {
      if (!py::isinstance<py::list>(v) && !py::isinstance<py::tuple>(v))
        violation(where, "describe()['head_dims'] must be a list of integers");
      for (const auto& x : v) {
        if (!py::isinstance<py::int_>(x))
          violation(where, "describe()['head_dims'] must be a list of integers");
        info.head_dims.push_back(x.cast<std::int64_t>());
      }
    } else if (key == "head_dim_multiple") {
      if (!py::isinstance<py::int_>(v) || v.cast<std::int64_t>() < 1)
        violation(where, "describe()['head_dim_multiple'] must be a positive integer");
      info.head_dim_multiple = v.cast<std::int64_t>();
    } else if (key == "masks") {
      info.masks = string_list(v, where, key);
    } else if (key == "passes") {
      has_passes = true;
      info.passes = parsed_list<Pass>(v, where, key);
    } else if (key == "gqa") {
      if (!py::isinstance<py::bool_>(v)) violation(where, "describe()['gqa'] must be True or False");
      info.gqa = v.cast<bool>();
    } else if (key == "head_masks") {
      // Masks per (batch, query head): the bridge then passes case["head_masks"] (python_backend.cpp).
      if (!py::isinstance<py::bool_>(v)) violation(where, "describe()['head_masks'] must be True or False");
      info.head_masks = v.cast<bool>();
    } else if (key == "tolerance_fwd") {
      info.tolerance_fwd = number(v, where, key);
    } else if (key == "tolerance_bwd") {
      info.tolerance_bwd = number(v, where, key);
    }
  }
  if (!has_name) violation(where, "describe() must give a non-empty 'name'");
  if (!has_passes) info.passes = {Pass::fwd};  // completed by load_module from the functions present
  return info;
}

std::shared_ptr<LoadedModule> load_module(const std::string& path) {
  try {
    ensure_interpreter();
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
  py::gil_scoped_acquire gil;
  auto lm = std::make_shared<LoadedModule>();
  lm->path = path;
  py::module_ m;
  try {
    m = import_file(path);
  } catch (py::error_already_set& e) {
    throw InputError(fmt::format("{}: cannot import the module: {}", path, describe_error(e)));
  }
  lm->module = m;
  py::object describe = optional_callable(m, "describe", path);
  lm->prepare = optional_callable(m, "prepare", path);
  lm->supports = optional_callable(m, "supports", path);
  lm->forward = optional_callable(m, "forward", path);
  lm->backward = optional_callable(m, "backward", path);
  lm->run = optional_callable(m, "run", path);
  lm->timed_run = optional_callable(m, "timed_run", path);
  if (describe.is_none()) violation(path, "missing function describe() -> dict");
  if (lm->prepare.is_none()) violation(path, "missing function prepare(case, q, k, v, dout, mask) -> state");
  if (lm->forward.is_none() && lm->run.is_none())
    violation(path, "missing function forward(state) -> (o, lse) (or run(state, pass))");

  py::object desc;
  try {
    desc = describe();
  } catch (py::error_already_set& e) {
    throw InputError(fmt::format("{}: describe() raised {}", path, describe_error(e)));
  }
  const bool declared_passes = py::isinstance<py::dict>(desc) && desc.cast<py::dict>().contains("passes");
  lm->info = parse_describe(desc, path);
  const bool can_backward = !lm->backward.is_none() || !lm->run.is_none();
  if (!declared_passes && can_backward) lm->info.passes = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  for (Pass p : lm->info.passes) {
    if (pass_has_forward(p) && lm->forward.is_none() && lm->run.is_none())
      violation(path, fmt::format("describe() lists pass {} but the module defines no forward(state)",
                                  to_string(p)));
    if (pass_has_backward(p) && !can_backward)
      violation(path, fmt::format("describe() lists pass {} but the module defines no backward(state)",
                                  to_string(p)));
  }
  return lm;
}

}  // namespace attnbench::python
