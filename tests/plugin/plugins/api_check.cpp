// A plugin that calls every non-inline function of the public headers from inside the .so:
// it loads (RTLD_NOW) only if the binary exports them all, and checks their answers across the boundary.
#include <attnbench/plugin.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "test_backend.hpp"

using namespace attnbench;

// Functions a plugin could call but that this test cannot run harmlessly: referenced, so the
// dynamic linker must resolve them when the plugin loads.
ATTNBENCH_PLUGIN_EXPORT void (Registry::*attnbench_test_add_backend)(
    std::shared_ptr<Backend>, const std::string&) = &Registry::add_backend;
ATTNBENCH_PLUGIN_EXPORT void (Registry::*attnbench_test_add_strategy)(
    std::shared_ptr<Strategy>, const std::string&) = &Registry::add_strategy;

namespace {

void expect(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("API check failed: ") + what);
}

void check_mask_api() {
  const auto causal4 =
      std::make_shared<Mask>("causal", 4, 4, std::vector<std::pair<std::string, std::string>>{},
                             std::vector<Slice>{{0, 4, 0, 4, SliceType::causal}},
                             [](std::int64_t q, std::int64_t k) { return k <= q; });
  expect(causal4->area() == 10, "Mask::area");
  expect(causal4->density() == 10.0 / 16.0, "Mask::density");
  expect(causal4->params_json() == "{}", "Mask::params_json");
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  causal4->row_ranges(2, ranges);
  expect(ranges.size() == 1 && ranges[0].first == 0 && ranges[0].second == 3, "Mask::row_ranges");
  std::uint8_t tile[4] = {9, 9, 9, 9};
  causal4->fill_tile(0, 2, 0, 2, tile);
  expect(tile[0] == 1 && tile[1] == 0 && tile[2] == 1 && tile[3] == 1, "Mask::fill_tile");
  expect(causal4->dense().size() == 16 && causal4->dense()[3] == 0, "Mask::dense");
  const BlockMap whole = causal4->block_map(2, 2);
  expect(whole.at(0, 1) == TileKind::empty && whole.at(1, 0) == TileKind::full &&
             whole.at(0, 0) == TileKind::partial,
         "Mask::block_map");
  expect(causal4->block_map(2, 2, 2, 2, 0, 4).q_tiles == 1, "Mask::block_map (sub-rectangle)");
  expect(causal4->area_in(0, 2, 0, 2) == 3, "Mask::area_in");

  const Slice s{0, 4, 0, 4, SliceType::bicausal};
  expect(s.area() == 4 && s.row_range(1).first == 1 && s.row_range(1).second == 2, "Slice");
  expect(to_string(SliceType::inv_causal) == "inv_causal", "to_string(SliceType)");
  expect(parse_slice_type("causal") == SliceType::causal, "parse_slice_type");

  Problem p;
  p.shape = {1, 2, 1, 4, 4, 8};
  p.mask = causal4;
  expect(pass_flops(p) == 4.0 * 10 * 2 * 8, "pass_flops");
  BackendInfo info;
  info.dtypes = {DType::fp32};
  expect(check_info(info, p).ok, "check_info (ok)");
  info.gqa = false;
  expect(!check_info(info, p).ok, "check_info (GQA refused)");
}

void check_types_and_memory() {
  expect(to_string(DType::bf16) == "bf16" && to_string(Pass::fwd_bwd) == "fwd_bwd" &&
             to_string(Device::cuda) == "cuda" && to_string(Status::mismatch) == "mismatch",
         "to_string");
  expect(parse_dtype("fp16") == DType::fp16 && parse_pass("bwd") == Pass::bwd &&
             parse_status("oom") == Status::oom && !parse_dtype("int8"),
         "parse_*");
  expect(dtype_size(DType::bf16) == 2, "dtype_size");

  MemoryTracker mem(100);
  mem.reserve(60);
  bool refused = false;
  try {
    mem.reserve(60);
  } catch (const OutOfMemory&) {  // thrown in the binary, caught in the plugin
    refused = true;
  }
  expect(refused && mem.live() == 60 && mem.peak() == 60, "MemoryTracker::reserve");
  mem.release(60);
  expect(mem.live() == 0, "MemoryTracker::release");
}

void check_registry(const PluginRegistrar& reg) {
  expect(reg.registry == &Registry::instance(), "Registry::instance is the binary's registry");
  expect(reg.registry->find_backend("cpu.reference") != nullptr, "Registry::find_backend");
  expect(reg.registry->find_strategy("no.such.strategy") == nullptr, "Registry::find_strategy");
  const auto names = reg.registry->backend_names();
  expect(std::find(names.begin(), names.end(), "cpu.reference") != names.end(), "Registry::backend_names");
  (void)reg.registry->strategy_names();
}

}  // namespace

ATTNBENCH_PLUGIN(reg) {
  check_mask_api();
  check_types_and_memory();
  check_registry(reg);
  reg.add_backend(std::make_shared<NamedTestBackend>("test.api_checked"));
}
