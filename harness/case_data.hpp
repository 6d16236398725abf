// Inputs and reference outputs shared by adjacent cases with the same shape (and mask).
#pragma once

#include <string>

#include "attnbench/tensors.hpp"
#include "harness/mqar.hpp"
#include "harness/scenario.hpp"

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

 private:
  static std::string input_key(const Case&);
  bool backward_;
  std::string inputs_key_, ref_key_;
  Inputs inputs_;
  MqarProbes probes_;
  Outputs ref_;
};

}  // namespace attnbench
