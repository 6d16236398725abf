// The correctness check: a backend's outputs against the reference's, with per-dtype tolerances.
#pragma once

#include "attnbench/backend.hpp"

namespace attnbench {

struct CheckResult {
  double max_abs_err = 0;
  double rel_l2_err = 0;  // the worst tensor's ||a - b|| / ||b||
  bool passed = true;
  std::string worst;  // which tensor had the worst relative error
};

// Default tolerances on the relative L2 error (fp32: 1e-5 fwd, 1e-4 bwd; bf16/fp16: 1e-2).
double default_tolerance(DType, bool backward);

// Compares the tensors the pass produces (fwd: o, lse; bwd: dq, dk, dv; fwd_bwd:
// all five); a missing tensor fails. LSE entries of -inf must match exactly
// (rows with no allowed key).
CheckResult compare_outputs(const Outputs& got, const Outputs& ref, Pass pass, double tol_fwd,
                            double tol_bwd);

// The output O alone (approximate backends: their LSE is an estimate, not checked): `rel_l2_err` is
// ||O - O_ref|| / ||O_ref|| (the `approx_rel_l2` column), passed when it is within `tol`.
CheckResult compare_output_o(const Outputs& got, const Outputs& ref, double tol);

}  // namespace attnbench
