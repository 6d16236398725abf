// Runs one case through a Python module: zero-copy inputs, GIL held only around calls, harness-side timing.
#include "backends/python/python_backend.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "backends/python/interpreter.hpp"
#include "backends/python/native_module.hpp"

namespace attnbench::python {

namespace {

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// The bridge's Python support module (modules/_attnbench.py). GIL held.
py::module_ support_module() { return py::module_::import("_attnbench"); }

// Rethrows a Python exception as what the runner understands: OutOfMemory (oom row)
// or runtime_error (error row) carrying the Python message. GIL held.
[[noreturn]] void rethrow(py::error_already_set& e, const std::string& what) {
  const std::string msg = fmt::format("python {}: {}", what, describe_error(e));
  if (is_out_of_memory(e)) throw OutOfMemory(msg);
  throw std::runtime_error(msg);
}

// Problem::head_masks as B·Hq mask views (index b·heads_q + h), or None when one mask holds for every
// (b, h). Entries that share a mask are one Python object, so a module can build each distinct mask's
// dense or block form once (`is` tells them apart). GIL held.
py::object head_mask_list(const Problem& p) {
  if (p.head_masks.empty()) return py::none();
  std::unordered_map<const Mask*, py::object> views;
  py::list out;
  for (const MaskPtr& m : p.head_masks) {
    auto [it, fresh] = views.try_emplace(m.get());
    if (fresh) it->second = mask_object(m);
    out.append(it->second);
  }
  return out;
}

py::dict make_case(const Problem& p, const BackendInfo& info) {
  const Shape& s = p.shape;
  py::dict c;
  c["backend"] = info.name;
  c["device"] = std::string(to_string(info.device));
  c["batch"] = s.batch;
  c["heads_q"] = s.heads_q;
  c["heads_kv"] = s.heads_kv;
  c["seqlen_q"] = s.seqlen_q;
  c["seqlen_k"] = s.seqlen_k;
  c["head_dim"] = s.head_dim;
  c["dtype"] = std::string(to_string(p.dtype));
  c["pass"] = std::string(to_string(p.pass));
  c["softmax_scale"] = p.softmax_scale;
  c["seed"] = p.seed;
  c["mask"] = p.mask ? p.mask->name() : std::string("full");
  c["mask_params"] = py::module_::import("json").attr("loads")(p.mask ? p.mask->params_json() : "{}");
  c["mask_view"] = p.mask ? mask_object(p.mask) : py::none();
  // None for a uniform case. check_info refuses cases with masks per (b, h) to a module whose
  // describe() does not say "head_masks": True, so only modules that do ever see a list.
  c["head_masks"] = head_mask_list(p);
  c["options"] = p.options;
  return c;
}

class PythonExecution final : public Execution {
 public:
  PythonExecution(std::shared_ptr<LoadedModule> m, py::object state, const Problem& p, MemoryTracker* tracker)
      : m_(std::move(m)), state_(std::move(state)), p_(p), tracker_(tracker) {}

  ~PythonExecution() override {
    try {
      py::gil_scoped_acquire gil;
      state_ = py::object();
      fwd_ = py::object();
      bwd_ = py::object();
      if (m_->info.device == Device::cuda) support_module().attr("release_cached_memory")();
    } catch (...) {
      // Nothing useful to do in a destructor; the next case starts clean anyway.
    }
  }

  void run() override {
    py::gil_scoped_acquire gil;
    try {
      store(calls()());
    } catch (py::error_already_set& e) {
      rethrow(e, file_name(m_->path));
    }
  }

  IterationTime timed_run() override {
    py::gil_scoped_acquire gil;  // taken before the clock starts: the timer brackets the call only
    try {
      py::object fn = calls();
      if (m_->info.device == Device::cuda) {
        // CUDA events on torch's current stream (see _attnbench.timed_cuda).
        py::tuple r = support_module().attr("timed_cuda")(fn);
        store(r[1]);
        return {r[0].cast<double>()};
      }
      const auto t0 = std::chrono::steady_clock::now();
      py::object out = fn();
      const auto t1 = std::chrono::steady_clock::now();
      store(out);
      return {std::chrono::duration<double>(t1 - t0).count()};
    } catch (py::error_already_set& e) {
      rethrow(e, file_name(m_->path));
    }
  }

  void fetch_outputs(Outputs& out) override {
    py::gil_scoped_acquire gil;
    try {
      const Shape& s = p_.shape;
      if (pass_has_forward(p_.pass)) {
        auto t = results(fwd_, 2, "forward() must return (o, lse)");
        copy(t[0], out.o, {s.batch, s.seqlen_q, s.heads_q, s.head_dim}, "o", "[B, Sq, Hq, D]");
        copy(t[1], out.lse, {s.batch, s.heads_q, s.seqlen_q}, "lse", "[B, Hq, Sq]");
      }
      if (pass_has_backward(p_.pass)) {
        auto t = results(bwd_, 3, "backward() must return (dq, dk, dv)");
        copy(t[0], out.dq, {s.batch, s.seqlen_q, s.heads_q, s.head_dim}, "dq", "[B, Sq, Hq, D]");
        copy(t[1], out.dk, {s.batch, s.seqlen_k, s.heads_kv, s.head_dim}, "dk", "[B, Sk, Hkv, D]");
        copy(t[2], out.dv, {s.batch, s.seqlen_k, s.heads_kv, s.head_dim}, "dv", "[B, Sk, Hkv, D]");
      }
    } catch (py::error_already_set& e) {
      rethrow(e, file_name(m_->path));
    }
  }

  std::vector<Metric> metrics() override {
    if (m_->info.device != Device::cuda) return {};
    std::int64_t peak = 0;
    {
      py::gil_scoped_acquire gil;
      try {
        py::object r = support_module().attr("peak_memory_bytes")();
        if (r.is_none()) return {};
        peak = r.cast<std::int64_t>();
      } catch (py::error_already_set&) {
        return {};
      }
    }
    // Charge torch's peak to the device budget, so the row's peak_mem_bytes is real
    // and a module past the budget is an `oom` row like any native backend.
    if (tracker_ != nullptr) {
      tracker_->reserve(static_cast<std::size_t>(peak));
      tracker_->release(static_cast<std::size_t>(peak));
    }
    return {{"py_peak_mem_bytes", static_cast<double>(peak), {}}};
  }

 private:
  // One callable that runs the pass: the harness times exactly this.
  py::object calls() {
    const std::string pass(to_string(p_.pass));
    return support_module().attr("pass_callable")(m_->forward, m_->backward, m_->run, state_, pass);
  }

  // pass_callable returns (fwd_result, bwd_result); either may be None.
  void store(const py::object& r) {
    py::tuple t = r.cast<py::tuple>();
    if (!t[0].is_none()) fwd_ = t[0];
    if (!t[1].is_none()) bwd_ = t[1];
  }

  std::vector<py::object> results(const py::object& r, std::size_t n, const char* contract) {
    if (r.is_none() || !(py::isinstance<py::tuple>(r) || py::isinstance<py::list>(r)) || py::len(r) != n)
      throw std::runtime_error(fmt::format("python {}: {}", file_name(m_->path), contract));
    std::vector<py::object> out;
    for (const auto& x : r) out.push_back(py::reinterpret_borrow<py::object>(x));
    return out;
  }

  void copy(const py::object& x, std::vector<float>& dst, const std::vector<std::int64_t>& shape,
            const char* name, const char* layout) {
    py::array a = support_module().attr("to_host")(x);  // float32, C-contiguous, on the host
    std::vector<std::int64_t> got(a.shape(), a.shape() + a.ndim());
    if (got != shape)
      throw std::runtime_error(fmt::format("python {}: {} has shape ({}) but the harness expects {} = ({})",
                                           file_name(m_->path), name, fmt::join(got, ", "), layout,
                                           fmt::join(shape, ", ")));
    dst.resize(static_cast<std::size_t>(a.size()));
    std::memcpy(dst.data(), a.data(), dst.size() * sizeof(float));
  }

  std::shared_ptr<LoadedModule> m_;
  py::object state_, fwd_, bwd_;
  Problem p_;
  MemoryTracker* tracker_;
};

}  // namespace

PythonBackend::PythonBackend(std::shared_ptr<LoadedModule> module)
    : stub_(module->info), path_(module->path) {
  std::call_once(load_once_, [] {});
  module_ = std::move(module);
}

PythonBackend::PythonBackend(BackendInfo stub, std::string path)
    : stub_(std::move(stub)), path_(std::move(path)) {}

const LoadedModule* PythonBackend::module() const {
  std::call_once(load_once_, [this] {
    try {
      module_ = load_module(path_);
      module_->info.name = stub_.name;  // the registry name stays the one listed
    } catch (const std::exception& e) {
      load_error_ = e.what();
    }
  });
  return module_.get();
}

BackendInfo PythonBackend::info() const { return module_ ? module_->info : stub_; }

Support PythonBackend::supports(const Problem& p) const {
  pending_error_.clear();
  const LoadedModule* m = module();
  if (m == nullptr) return Support::no("cannot load the Python module: " + load_error_);
  Support s = check_info(m->info, p);
  if (!s.ok || m->supports.is_none()) return s;
  py::gil_scoped_acquire gil;
  try {
    py::object r = m->supports(make_case(p, m->info));
    if (py::isinstance<py::bool_>(r) && r.cast<bool>()) return Support::yes();
    if (py::isinstance<py::str>(r)) return Support::no(r.cast<std::string>());
    if (py::isinstance<py::bool_>(r)) return Support::no(file_name(path_) + ": supports() returned False");
    pending_error_ =
        fmt::format("python {}: supports(case) must return True or a reason string, not {}", file_name(path_),
                    py::str(r.get_type().attr("__name__")).cast<std::string>());
  } catch (py::error_already_set& e) {
    // The runner asks supports() outside its error handling: report it from prepare().
    pending_error_ = fmt::format("python {} (supports): {}", file_name(path_), describe_error(e));
  }
  return Support::yes();
}

std::unique_ptr<Execution> PythonBackend::prepare(const Problem& p, const Inputs& in, Resources& r) {
  if (!pending_error_.empty()) {
    const std::string msg = std::move(pending_error_);
    pending_error_.clear();
    throw std::runtime_error(msg);
  }
  const LoadedModule* m = module();
  if (m == nullptr) throw std::runtime_error("cannot load the Python module: " + load_error_);
  const Shape& s = p.shape;
  py::gil_scoped_acquire gil;
  try {
    if (m->info.device == Device::cuda) support_module().attr("reset_peak_memory")();
    py::object q = borrowed_array(in.q.data(), {s.batch, s.seqlen_q, s.heads_q, s.head_dim});
    py::object k = borrowed_array(in.k.data(), {s.batch, s.seqlen_k, s.heads_kv, s.head_dim});
    py::object v = borrowed_array(in.v.data(), {s.batch, s.seqlen_k, s.heads_kv, s.head_dim});
    py::object dout =
        in.dout.empty()
            ? py::none()
            : py::object(borrowed_array(in.dout.data(), {s.batch, s.seqlen_q, s.heads_q, s.head_dim}));
    py::object mask = p.mask ? mask_object(p.mask) : py::none();
    py::object state = m->prepare(make_case(p, m->info), q, k, v, dout, mask);
    return std::make_unique<PythonExecution>(module_, std::move(state), p,
                                             m->info.device == Device::cuda ? r.device : r.host);
  } catch (py::error_already_set& e) {
    rethrow(e, file_name(path_) + " (prepare)");
  }
}

}  // namespace attnbench::python
