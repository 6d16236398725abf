// --dump-tensors: one folder per case with case.json and the .npy tensors (DESIGN.md "Tensor dumps").
#pragma once

#include <string>

#include "attnbench/tensors.hpp"
#include "harness/scenario.hpp"

namespace attnbench {

// Writes DIR/<case id>/: case.json, q k v (inputs), o lse (forward passes), mask,
// and do dq dk dv for backward passes. Tensors absent from `out` are not written.
void write_case_dump(const std::string& dir, const Case&, const Inputs&, const Outputs& out);

// Every parameter of the case, including the mask's resolved parameters, as JSON.
std::string case_json(const Case&);

}  // namespace attnbench
