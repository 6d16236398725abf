// The CP cost model of one case: the strategies' own schedule (backends/cp/schedule.hpp), exact areas,
// a kernel profile, and alpha-beta links (DESIGN.md "Scale model").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "model/machine.hpp"

namespace attnbench::model {

struct CaseModel {
  bool supported = true;
  std::string reason;  // why not, when unsupported
  double time_ms = 0, compute_ms = 0, comm_ms = 0, exposed_comm_ms = 0, imbalance = 1;
  double tflops_per_gpu = 0;
  std::vector<std::uint64_t> rank_bytes;  // [rank]: bytes sent in one pass (as the comm layer counts)
  std::vector<double> rank_area;  // [rank]: allowed pairs x its share of heads (the `rank_area` metric)
  // [rank][step]: allowed pairs (per head and batch entry) attended at each step of the timed
  // pass, filled when asked for (the equality tests); the steps of fwd then bwd for fwd_bwd.
  std::vector<std::vector<std::int64_t>> rank_step_areas;
  std::string layout_note;
  bool profiled = false;  // kernel time from a profile entry (else peak x attention_efficiency)
  std::uint64_t max_bytes() const;
};

struct ModelOptions {
  bool keep_steps = false;
  std::uint64_t elem_bytes = 0;  // 0: the dtype's size
};

// `backend` names the profile entry. Throws InputError on bad strategy options.
CaseModel model_case(const Problem&, const std::string& backend, const Machine&, const ModelOptions& = {});

}  // namespace attnbench::model
