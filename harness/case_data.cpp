// Generates inputs and runs cpu.reference once per group of cases that share them.
#include "harness/case_data.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "attnbench/registry.hpp"
#include "harness/inputs.hpp"

namespace attnbench {

namespace {
bool has_backward(const Scenario& s) {
  for (auto p : s.passes)
    if (pass_has_backward(p)) return true;
  return false;
}
}  // namespace

CaseData::CaseData(const Scenario& s) : backward_(has_backward(s)) {}

std::string CaseData::input_key(const Case& c) {
  const auto& s = c.problem.shape;
  return fmt::format("{}/{}/{}/{}/{}/{}/{}/{}/{}/{}/{}", s.batch, s.heads_q, s.heads_kv, s.value_heads(),
                     s.seqlen_q, s.seqlen_k, s.head_dim, s.value_dim(), to_string(c.problem.dtype),
                     c.problem.seed, c.inputs.json());
}

const Inputs& CaseData::inputs(const Case& c) {
  const std::string key = input_key(c);
  if (key != inputs_key_) {
    Problem p = c.problem;
    p.pass = backward_ ? Pass::fwd_bwd : Pass::fwd;
    inputs_ = c.inputs.mqar() ? generate_mqar_inputs(p, c.inputs, probes_) : generate_inputs(p);
    inputs_key_ = key;
  }
  return inputs_;
}

const MqarProbes* CaseData::probes(const Case& c) {
  if (!c.inputs.mqar()) return nullptr;
  inputs(c);
  return &probes_;
}

// The selection of a dynamic mask is a function of the inputs and the mask entry, so this key also
// names a case's selected masks.
std::string CaseData::reference_key(const Case& c) const {
  return input_key(c) + fmt::format("/m{}/b{}", c.mask_index, c.bias_index);
}

const Outputs& CaseData::reference(const Case& c) {
  const std::string key = reference_key(c);
  if (key != ref_key_) {
    Backend* ref = Registry::instance().find_backend("cpu.reference");
    if (ref == nullptr) throw std::runtime_error("cpu.reference is not registered");
    Problem p = c.problem;
    p.pass = backward_ ? Pass::fwd_bwd : Pass::fwd;
    p.strategy = "none";
    p.world_size = 1;
    MemoryTracker unlimited;
    Resources r{&unlimited, &unlimited, nullptr, 0};
    auto exec = ref->prepare(p, inputs(c), r);
    exec->run();
    ref_ = Outputs{};
    exec->fetch_outputs(ref_);
    ref_key_ = key;
  }
  return ref_;
}

const SelectionQuality& CaseData::selection_quality(const Case& selected) {
  const std::string key = reference_key(selected);
  if (key != quality_key_) {
    quality_ = attnbench::selection_quality(selected.problem, inputs(selected));
    quality_key_ = key;
  }
  return quality_;
}

const CaseData::Selection& CaseData::selection(const Case& c, const std::function<Selection()>& select) {
  const std::string key = reference_key(c);
  if (key != selection_key_) {
    selection_ = select();
    selection_key_ = key;
  }
  return selection_;
}

}  // namespace attnbench
