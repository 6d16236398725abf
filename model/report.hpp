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
  // Per group (mask, seqlen, world size, pass): the measured fastest strategy, the modelled fastest and
  // every strategy the model cannot tell from it (modelled within tie_pct: at P = 2 `usp` is `ulysses`
  // and `double_ring` is `ring_zigzag`, the same schedule and so the same modelled time), whether the
  // measured fastest is among those, and the regret: what following the model's first pick costs,
  // (its measured time / the measured fastest - 1) x 100.
  struct Winner {
    std::string group, measured;
    std::vector<std::string> modelled;  // the modelled fastest first, then its ties
    bool same = false;
    double regret_pct = 0;
  };
  std::vector<Winner> winners;
  double tie_pct = 1;
  int winners_same() const;
};
// Pairs measured CP rows (status ok) with modelled rows of the same case key; modelled times within
// tie_pct percent of a group's fastest count as tied with it.
Validation validate(const std::vector<ResultRow>& modelled, const std::vector<ResultRow>& measured,
                    double tie_pct = 1);
std::string validation_text(const Validation&);

// Per (mask, seqlen, world size, pass): the fastest modelled row, its layout, the runner-up
// and the margin, as a Markdown table.
std::string recommend_markdown(const std::vector<ResultRow>& modelled);

}  // namespace attnbench::model
