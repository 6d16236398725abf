// Inputs and reference outputs shared by adjacent cases with the same shape (and mask).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attnbench/tensors.hpp"
#include "harness/mqar.hpp"
#include "harness/scenario.hpp"
#include "harness/selection_quality.hpp"

namespace attnbench {

// Keeps one set of inputs and one reference at a time: the sweep order puts
// cases that share them next to each other (backends innermost).
class CaseData {
 public:
  explicit CaseData(const Scenario&);
  // Seeded inputs (with dout when the scenario has any backward pass), or the MQAR probe's.
  const Inputs& inputs(const Case&);
  // The probe of an MQAR case's inputs (what `recall` decodes against); nullptr for random inputs.
  const MqarProbes* probes(const Case&);
  // cpu.reference's outputs for these inputs and this case's mask (fwd_bwd when
  // the scenario has any backward pass, so one computation serves every pass).
  const Outputs& reference(const Case&);
  // attn_recall and approx_rel_l2 of a dynamic case under its selected masks (selection_quality), once
  // per selection: every backend and pass of the case shares it, as they share the reference.
  const SelectionQuality& selection_quality(const Case& selected);
  // A dynamic case's selected masks and the median time of selecting them (select_ms). `select` runs
  // once per selection (inputs, mask entry, bias): every backend and pass of the case reuses it.
  struct Selection {
    std::vector<MaskPtr> head_masks;
    double select_ms = 0;
  };
  const Selection& selection(const Case&, const std::function<Selection()>& select);

 private:
  static std::string input_key(const Case&);
  bool backward_;
  std::string reference_key(const Case&) const;
  std::string inputs_key_, ref_key_, quality_key_, selection_key_;
  Inputs inputs_;
  MqarProbes probes_;
  Outputs ref_;
  SelectionQuality quality_;
  Selection selection_;
};

}  // namespace attnbench
