// Relative L2 and max-abs errors per tensor; a -inf LSE must be matched by -inf.
#include "harness/check.hpp"

#include <cmath>
#include <limits>

namespace attnbench {

double default_tolerance(DType d, bool backward) {
  switch (d) {
    case DType::fp64: return backward ? 1e-10 : 1e-12;
    case DType::fp32: return backward ? 1e-4 : 1e-5;
    case DType::bf16:
    case DType::fp16: return 1e-2;
  }
  return 1e-5;
}

namespace {

struct TensorError {
  double max_abs = 0, rel_l2 = 0;
};

TensorError tensor_error(const std::vector<float>& a, const std::vector<float>& b) {
  TensorError e;
  if (a.size() != b.size()) {
    e.max_abs = e.rel_l2 = std::numeric_limits<double>::infinity();
    return e;
  }
  double diff2 = 0, ref2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    if (std::isinf(y) && y < 0) {  // a row with no allowed key
      if (!(std::isinf(x) && x < 0)) e.max_abs = e.rel_l2 = std::numeric_limits<double>::infinity();
      continue;
    }
    const double d = x - y;
    if (!std::isfinite(d)) {
      e.max_abs = e.rel_l2 = std::numeric_limits<double>::infinity();
      return e;
    }
    e.max_abs = std::max(e.max_abs, std::fabs(d));
    diff2 += d * d;
    ref2 += y * y;
  }
  if (std::isinf(e.rel_l2)) return e;
  e.rel_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  return e;
}

}  // namespace

CheckResult compare_outputs(const Outputs& got, const Outputs& ref, Pass pass, double tol_fwd,
                            double tol_bwd) {
  CheckResult r;
  auto one = [&](const char* name, const std::vector<float>& a, const std::vector<float>& b, double tol) {
    const TensorError e = tensor_error(a, b);
    r.max_abs_err = std::max(r.max_abs_err, e.max_abs);
    if (e.rel_l2 >= r.rel_l2_err) {
      r.rel_l2_err = e.rel_l2;
      r.worst = name;
    }
    if (!(e.rel_l2 <= tol)) r.passed = false;
  };
  if (pass_has_forward(pass)) {
    one("o", got.o, ref.o, tol_fwd);
    one("lse", got.lse, ref.lse, tol_fwd);
  }
  if (pass_has_backward(pass)) {
    one("dq", got.dq, ref.dq, tol_bwd);
    one("dk", got.dk, ref.dk, tol_bwd);
    one("dv", got.dv, ref.dv, tol_bwd);
  }
  return r;
}

CheckResult compare_output_o(const Outputs& got, const Outputs& ref, double tol) {
  const TensorError e = tensor_error(got.o, ref.o);
  CheckResult r;
  r.max_abs_err = e.max_abs;
  r.rel_l2_err = e.rel_l2;
  r.worst = "o";
  r.passed = e.rel_l2 <= tol;
  return r;
}

}  // namespace attnbench
