// Shared helpers of the CP tests: problems, seeded inputs, the float64 reference, strategy runs.
#pragma once

#include <map>
#include <string>

#include "attnbench/comm.hpp"
#include "attnbench/registry.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"

namespace attnbench::cptest {

inline Problem make_problem(const MaskSpec& mask, std::int64_t S, std::int64_t hq, std::int64_t hkv,
                            std::int64_t d, Pass pass, const std::string& strategy, int world,
                            std::map<std::string, std::string> options = {}) {
  Problem p;
  p.shape = {1, hq, hkv, S, S, d};
  p.dtype = DType::fp32;
  p.pass = pass;
  p.mask = build_mask(mask, S, S);
  p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(d));
  p.seed = 3;
  p.strategy = strategy;
  p.world_size = world;
  p.options = std::move(options);
  return p;
}

// cpu.reference (float64) outputs of every tensor for these inputs.
inline Outputs reference_outputs(Problem p, const Inputs& in) {
  p.pass = Pass::fwd_bwd;
  p.strategy = "none";
  p.world_size = 1;
  MemoryTracker unlimited;
  Resources r{&unlimited, &unlimited, nullptr, 0};
  auto exec = Registry::instance().find_backend("cpu.reference")->prepare(p, in, r);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

// Runs a strategy once on `comm` (every rank calls it) and returns the gathered outputs.
inline Outputs run_strategy(const Problem& p, const std::string& backend, const Inputs& in,
                            Communicator& comm) {
  Strategy* s = Registry::instance().find_strategy(p.strategy);
  Backend* b = Registry::instance().find_backend(backend);
  MemoryTracker mem;
  Resources r{&mem, &mem, &comm, 0};
  auto exec = s->prepare(p, *b, in, r);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

// The masks the issue asks every strategy to handle, sized for S = 128.
inline std::vector<MaskSpec> test_masks() {
  return {
      {"full", {}},
      {"causal", {}},
      {"causal_document", {{"doc_lengths", "[30, 50, 48]"}}},
      {"share_question", {{"doc_lengths", "[40, 30, 58]"}}},
      {"global_sliding_window", {{"global", "8"}, {"window", "16"}}},
      {"block_sparse", {{"block", "16"}, {"keep", "0.3"}, {"seed", "5"}}},
  };
}

inline const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> n{"ring",    "ring_zigzag", "allgather_kv",
                                          "ulysses", "usp",         "double_ring"};
  return n;
}

}  // namespace attnbench::cptest
