// The PyTorch backends on the CPU pass the bridge's checks; exits 77 (ctest: Skipped) without torch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <pybind11/pybind11.h>

#include <cstdio>
#include <cstdlib>

#include "backends/python/interpreter.hpp"
#include "masks/library.hpp"
#include "tests/backends/python/bridge_test_util.hpp"

using namespace attnbench;

namespace {

std::string torch_import_error() {
  namespace py = pybind11;
  try {
    python::ensure_interpreter();
  } catch (const std::exception& e) {
    return e.what();
  }
  py::gil_scoped_acquire gil;
  try {
    py::module_::import("torch");
    return {};
  } catch (py::error_already_set& e) {
    return python::describe_error(e);
  }
}

}  // namespace

TEST_CASE("torch backends that run on the CPU match cpu.reference forward and backward", "[python][torch]") {
  std::string masks = "  - full\n  - causal\n";
  if (find_mask_info("causal_document") != nullptr)
    masks += "  - {name: causal_document, doc_lengths: [50, 14, 64]}\n";
  if (find_mask_info("sliding_window") != nullptr) masks += "  - {name: sliding_window, window: 20}\n";
  if (find_mask_info("block_sparse") != nullptr)
    masks += "  - {name: block_sparse, block: 32, keep: 0.5, seed: 3}\n";
  const auto rows = test::run_scenario_text(
      "name: torch_cpu\nbackends: [torch.sdpa_math, torch.sdpa_flash, torch.flex, torch.sdpa_efficient]\n"
      "masks:\n" +
      masks +
      "seqlens: [128]\nshape: {batch: 1, heads_q: 4, heads_kv: 2, head_dim: 16}\n"
      "passes: [fwd, bwd]\ntiming: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  int ok_math = 0;
  for (const auto& r : rows) {
    INFO(r.backend << " " << r.mask << " " << r.pass << ": " << r.message);
    // A backend may decline a case (e.g. efficient on the CPU), never fail or mismatch.
    CHECK((r.status == Status::ok || r.status == Status::unsupported));
    if (r.status == Status::unsupported) CHECK(!r.message.empty());
    if (r.status == Status::ok) CHECK(r.rel_l2_err < 1e-4);
    if (r.backend == "torch.sdpa_math" && r.status == Status::ok) ++ok_math;
    // Flash (is_causal or attn_mask) on full and causal, and Flex's forward on every mask, run on the CPU.
    if (r.backend == "torch.sdpa_flash" && (r.mask == "full" || r.mask == "causal"))
      CHECK(r.status == Status::ok);
    if (r.backend == "torch.flex" && r.pass == "fwd") CHECK(r.status == Status::ok);
  }
  CHECK(ok_math == static_cast<int>(rows.size() / 4));  // math runs every case
}

TEST_CASE("torch backends run masks per (batch, head): selectors, per_head groups, a padded batch",
          "[python][torch][head_masks]") {
  // S 200: two 128-token Flex tiles, the second ragged; padded rows hold empty query rows.
  const std::string rest =
      "heads_q: 4, heads_kv: 2, head_dim: 16}\npasses: [fwd, bwd]\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n";
  const std::string backends = "backends: [torch.sdpa_math, torch.sdpa_flash, torch.flex]\n";
  auto rows = test::run_scenario_text("name: torch_head_masks\n" + backends +
                                      "masks:\n  - {name: topk_blocks, block: 32, keep: 0.3}\n  - {name: "
                                      "kmeans, block: 32, clusters: 4, iters: 3}\n"
                                      "  - {name: per_head, groups: [{mask: causal, fraction: 0.5}, {mask: "
                                      "{name: streaming, sink: 8, recent: 32}}]}\n"
                                      "seqlens: [200]\nshape: {batch: 2, " +
                                      rest);
  const auto padded =
      test::run_scenario_text("name: torch_padded\n" + backends +
                              "masks: [causal]\nbatching: {lengths: [150, 200, 37], layout: [padded]}\n"
                              "shape: {" +
                              rest);
  rows.insert(rows.end(), padded.begin(), padded.end());
  REQUIRE(rows.size() == 3 * 4 * 2);
  for (const auto& r : rows) {
    INFO(r.backend << " " << r.mask << " " << r.mask_params << " " << r.pass << ": " << r.message);
    // Checked against the float64 reference under the selected / per-head / per-sequence masks.
    if (r.backend == "torch.flex" && r.pass == "bwd") {
      CHECK(r.status == Status::unsupported);  // no Flex backward on the CPU (torch's own reason)
      continue;
    }
    CHECK(r.status == Status::ok);
    CHECK(r.rel_l2_err < 1e-4);
  }
}

int main(int argc, char** argv) {
  const std::string why = torch_import_error();
  if (!why.empty()) {
    std::printf("SKIPPED: torch is not importable in the embedded Python (%s)\n", why.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
