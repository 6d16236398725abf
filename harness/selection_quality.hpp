// Quality of a dynamic (selected) mask against exact attention (with the case's bias) under its base
// mask, in float64.
#pragma once

#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"

namespace attnbench {

struct SelectionQuality {
  // Mean over (batch, query head, query row with any base key) of the softmax mass, under the base
  // mask, of the keys the selected mask keeps: 1 when nothing the base attends to was dropped.
  double attn_recall = 0.0;
  // ||O_sel - O_base|| / ||O_base|| over the whole output, O_sel being exact attention under the
  // selected mask (the `approx_rel_l2` column).
  double approx_rel_l2 = 0.0;
};

// `selected` has head_masks (each a subset of `selected.mask`, the base); inputs as the case's.
SelectionQuality selection_quality(const Problem& selected, const Inputs&);

}  // namespace attnbench
