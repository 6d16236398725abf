// TEST-ONLY (never in the product binary): force-included into a second compile of cpu_math.cpp, it
// registers cpu.math wrapped so that every iteration does about 10 % more of the same work. The
// gate measurement (docs/ci-gate.md) runs `attnbench_slowed_cpu_math` against `attnbench`.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "attnbench/registry.hpp"
#include "backends/cpu/math/math_attention.hpp"

namespace attnbench::test_slowdown {

constexpr double kExtraFraction = 0.10;

// The extra work is cpu.math's own forward (and backward) on the first 10 % of the query rows, into
// scratch buffers: cpu.math is dense, so its work is proportional to Sq * Sk and the extra is 10 %
// of the time and of the instructions alike, whatever the mask. Outputs are untouched.
class SlowedExecution final : public Execution {
 public:
  SlowedExecution(std::unique_ptr<Execution> inner, const Problem& p, const Inputs& in)
      : inner_(std::move(inner)), p_(p), in_(in), sub_(p) {
    const auto& s = p.shape;
    sub_.shape.seqlen_q = std::max<std::int64_t>(1, std::llround(kExtraFraction * double(s.seqlen_q)));
    const auto& u = sub_.shape;
    mask_.assign(cpu::math::mask_elems(p), 0.0f);  // [Sq, Sk]: the sub-problem reads its first rows
    cpu::math::build_additive_mask(p, mask_.data(), 1);
    probs_.assign(cpu::math::score_elems(sub_), 0.0f);
    dprobs_.assign(cpu::math::score_elems(sub_), 0.0f);
    o_.assign(static_cast<std::size_t>(u.q_elems()), 0.0f);
    lse_.assign(static_cast<std::size_t>(u.lse_elems()), 0.0f);
    dq_.assign(static_cast<std::size_t>(u.q_elems()), 0.0f);
    dk_.assign(static_cast<std::size_t>(u.kv_elems()), 0.0f);
    dv_.assign(static_cast<std::size_t>(u.kv_elems()), 0.0f);
    if (p.pass == Pass::bwd) forward();  // as cpu.math: a bwd pass times the backward only
  }
  void run() override {
    inner_->run();
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass))
      cpu::math::backward(sub_, in_.q.data(), in_.k.data(), in_.v.data(), probs_.data(), in_.dout.data(),
                          dprobs_.data(), dq_.data(), dk_.data(), dv_.data(), threads_);
  }
  void fetch_outputs(Outputs& out) override { inner_->fetch_outputs(out); }
  std::vector<Metric> metrics() override { return inner_->metrics(); }

 private:
  void forward() {
    cpu::math::forward(sub_, in_.q.data(), in_.k.data(), in_.v.data(), mask_.data(), probs_.data(), o_.data(),
                       lse_.data(), threads_);
  }
  std::unique_ptr<Execution> inner_;
  int threads_ = omp_get_max_threads();  // as cpu.math's own
  Problem p_;
  const Inputs& in_;
  Problem sub_;
  std::vector<float> mask_, probs_, dprobs_, o_, lse_, dq_, dk_, dv_;
};

template <class Inner>
class SlowedBackend final : public Backend {
 public:
  BackendInfo info() const override { return inner_.info(); }
  Support supports(const Problem& p) const override { return inner_.supports(p); }
  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<SlowedExecution>(inner_.prepare(p, in, r), p, in);
  }

 private:
  mutable Inner inner_;
};

}  // namespace attnbench::test_slowdown

// cpu_math.cpp registers with this macro: register the wrapped backend instead.
#undef ATTNBENCH_REGISTER_BACKEND
#define ATTNBENCH_REGISTER_BACKEND(Type)                                      \
  static const bool ATTNBENCH_CONCAT(attnbench_registered_, __LINE__) = [] {  \
    ::attnbench::Registry::instance().add_backend(                            \
        std::make_shared<::attnbench::test_slowdown::SlowedBackend<Type>>()); \
    return true;                                                              \
  }()
