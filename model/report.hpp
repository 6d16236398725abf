// Modelled rows for the writers, validation against measured rows (per-row error, MAPE), recommendations.
#pragma once

#include <string>
#include <vector>

#include "model/cost.hpp"
#include "harness/schema/case_key.hpp"

namespace attnbench::model {

// Fills a base row (harness base_row) from a case model: status modelled (or unsupported with
// the reason), time_ms, tflops and the model's columns as extra metrics.
void fill_row(ResultRow&, const CaseModel&);

struct Validation {
  struct Pair {
    std::string label;
    double measured_ms = 0, modelled_ms = 0, error_pct = 0;
  };
  std::vector<Pair> pairs;
  double mape = 0;
  // Per group (mask, seqlen, world size, pass): the measured and modelled fastest strategy.
  struct Winner {
    std::string group, measured, modelled;
  };
  std::vector<Winner> winners;
};
// Pairs measured CP rows (status ok) with modelled rows of the same case key.
Validation validate(const std::vector<ResultRow>& modelled, const std::vector<ResultRow>& measured);
std::string validation_text(const Validation&);

// Per (mask, seqlen, world size, pass): the fastest modelled row, its layout, the runner-up
// and the margin, as a Markdown table.
std::string recommend_markdown(const std::vector<ResultRow>& modelled);

}  // namespace attnbench::model
