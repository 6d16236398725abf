// Defines the embedded module `attnbench_native`: the mask library's accessors for Python backends.
#include "backends/python/native_module.hpp"

#include <pybind11/embed.h>
#include <pybind11/stl.h>

namespace attnbench::python {

namespace {

// Holds the shared mask so a Python object can outlive the case that made it.
struct MaskView {
  MaskPtr mask;
};

py::dict block_map_dict(const BlockMap& m) {
  std::vector<std::uint8_t> kinds(m.kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) kinds[i] = static_cast<std::uint8_t>(m.kinds[i]);
  py::dict d;
  d["bq"] = m.bq;
  d["bk"] = m.bk;
  d["q_tiles"] = m.q_tiles;
  d["k_tiles"] = m.k_tiles;
  d["seqlen_q"] = m.nq;
  d["seqlen_k"] = m.nk;
  d["kinds"] = owned_array(std::move(kinds), {m.q_tiles, m.k_tiles});  // 0 empty, 1 partial, 2 full
  auto rows = static_cast<std::int64_t>(m.row_begin.size());
  auto n = static_cast<std::int64_t>(m.cols.size());
  d["row_begin"] = owned_array(std::vector<std::int64_t>(m.row_begin), {rows});
  d["cols"] = owned_array(std::vector<std::int32_t>(m.cols), {n});
  d["full"] = owned_array(std::vector<std::uint8_t>(m.full), {n});
  return d;
}

py::array bool_array(std::vector<std::uint8_t>&& bytes, std::int64_t rows, std::int64_t cols) {
  // 0/1 bytes reinterpreted as NumPy bool without a copy.
  return owned_array(std::move(bytes), {rows, cols}).attr("view")("bool");
}

}  // namespace

py::array borrowed_array(const float* data, const std::vector<std::int64_t>& shape) {
  py::capsule no_owner(data, [](void*) {});
  py::array a = py::array_t<float>(std::vector<py::ssize_t>(shape.begin(), shape.end()), data, no_owner);
  a.attr("flags").attr("writeable") = false;  // the harness's inputs are shared by every backend
  return a;
}

py::object mask_object(const MaskPtr& mask) {
  py::module_::import("attnbench_native");  // registers the Mask type
  return py::cast(MaskView{mask});
}

}  // namespace attnbench::python

PYBIND11_EMBEDDED_MODULE(attnbench_native, m) {
  namespace py = pybind11;
  using namespace attnbench::python;
  m.doc() = "attnbench's mask library, as seen by Python backends";
  py::class_<MaskView>(m, "Mask")
      .def_property_readonly("name", [](const MaskView& v) { return v.mask->name(); })
      .def_property_readonly("seqlen_q", [](const MaskView& v) { return v.mask->seqlen_q(); })
      .def_property_readonly("seqlen_k", [](const MaskView& v) { return v.mask->seqlen_k(); })
      .def_property_readonly("area", [](const MaskView& v) { return v.mask->area(); })
      .def_property_readonly("density", [](const MaskView& v) { return v.mask->density(); })
      .def_property_readonly(
          "params",
          [](const MaskView& v) { return py::module_::import("json").attr("loads")(v.mask->params_json()); })
      .def("allowed", [](const MaskView& v, std::int64_t q, std::int64_t k) { return v.mask->allowed(q, k); })
      .def("row_ranges",
           [](const MaskView& v, std::int64_t q) {
             std::vector<std::pair<std::int64_t, std::int64_t>> out;
             v.mask->row_ranges(q, out);
             return out;
           })
      .def(
          "dense",
          [](const MaskView& v) {
            return bool_array(v.mask->dense(), v.mask->seqlen_q(), v.mask->seqlen_k());
          },
          "Dense boolean mask [Sq, Sk] (True = allowed)")
      .def("fill_tile",
           [](const MaskView& v, std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) {
             std::vector<std::uint8_t> bytes(static_cast<std::size_t>(nq * nk));
             v.mask->fill_tile(q0, nq, k0, nk, bytes.data());
             return bool_array(std::move(bytes), nq, nk);
           })
      .def(
          "block_map",
          [](const MaskView& v, std::int64_t bq, std::int64_t bk) {
            if (bq <= 0 || bk <= 0) throw py::value_error("block_map: tile sizes must be positive");
            return block_map_dict(v.mask->block_map(bq, bk));
          },
          "Tile classification for bq x bk tiles: kinds (0 empty, 1 partial, 2 full) and CSR rows")
      .def("slices",
           [](const MaskView& v) {
             py::list out;
             for (const auto& s : v.mask->slices())
               out.append(py::make_tuple(s.q_begin, s.q_end, s.k_begin, s.k_end,
                                         std::string(attnbench::to_string(s.type))));
             return out;
           })
      .def("varlen", [](const MaskView& v) -> py::object {
        const auto& f = v.mask->varlen();
        if (!f) return py::none();
        py::dict d;
        d["cu_seqlens"] = f->cu_seqlens;
        d["window_left"] = f->window_left;
        d["window_right"] = f->window_right;
        return d;
      });
}
