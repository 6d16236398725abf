// Random attention cases for the CPU kernel tests, and the reference and backend runs they are checked with.
#include "kernel_cases.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "attnbench/registry.hpp"
#include "backends/cpu/reference/reference.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"
#include "tests/masks/random_specs.hpp"

namespace attnbench::test {

namespace {

std::int64_t pick(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

KernelCase finish(MaskPtr mask, Shape shape, Pass pass, std::uint64_t seed) {
  KernelCase c;
  c.problem.shape = shape;
  c.problem.dtype = DType::fp32;
  c.problem.pass = pass;
  c.problem.mask = std::move(mask);
  c.problem.softmax_scale = 1.0 / std::sqrt(static_cast<double>(shape.head_dim));
  c.problem.seed = seed;
  c.inputs = generate_inputs(c.problem);
  return c;
}

}  // namespace

KernelCase random_kernel_case(const std::string& mask, std::mt19937_64& rng, std::int64_t max_seqlen,
                              Pass pass) {
  const RandomCase rc = random_case(mask, rng, max_seqlen);
  Shape shape;
  shape.batch = pick(rng, 1, 2);
  shape.heads_kv = pick(rng, 1, 2);
  shape.heads_q = shape.heads_kv * pick(rng, 1, 2);
  shape.seqlen_q = rc.seqlen_q;
  shape.seqlen_k = rc.seqlen_k;
  const std::int64_t dims[] = {8, 64, 128};
  shape.head_dim = dims[pick(rng, 0, 2)];
  return finish(build_mask(rc.spec, rc.seqlen_q, rc.seqlen_k), shape, pass, rng());
}

KernelCase make_kernel_case(const std::string& mask, const std::map<std::string, std::string>& params,
                            Shape shape, Pass pass, std::uint64_t seed) {
  return finish(build_mask(MaskSpec{mask, params}, shape.seqlen_q, shape.seqlen_k), shape, pass, seed);
}

Outputs reference_outputs(const KernelCase& c) {
  const Problem& p = c.problem;
  const auto& s = p.shape;
  std::vector<double> o(s.o_elems()), lse(s.lse_elems());
  cpu::reference_forward(p, c.inputs.q.data(), c.inputs.k.data(), c.inputs.v.data(), o.data(), lse.data());
  Outputs out;
  out.o.assign(o.begin(), o.end());
  out.lse.assign(lse.begin(), lse.end());
  if (pass_has_backward(p.pass)) {
    std::vector<double> dq(s.q_elems()), dk(s.k_elems()), dv(s.v_elems());
    cpu::reference_backward(p, c.inputs.q.data(), c.inputs.k.data(), c.inputs.v.data(), o.data(), lse.data(),
                            c.inputs.dout.data(), dq.data(), dk.data(), dv.data());
    out.dq.assign(dq.begin(), dq.end());
    out.dk.assign(dk.begin(), dk.end());
    out.dv.assign(dv.begin(), dv.end());
  }
  return out;
}

Outputs run_backend(const std::string& name, const KernelCase& c, MemoryTracker& mem, int threads) {
  Backend* backend = Registry::instance().find_backend(name);
  if (backend == nullptr) throw std::runtime_error("backend not registered: " + name);
  const Support support = backend->supports(c.problem);
  if (!support.ok) throw std::runtime_error(name + " refuses the case: " + support.reason);
  Resources r;
  r.host = &mem;
  r.device = &mem;
  r.threads = threads;
  auto exec = backend->prepare(c.problem, c.inputs, r);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

std::string describe(const Problem& p) {
  const auto& s = p.shape;
  return fmt::format("{} {} B{} Hq{}/Hk{}/Hv{} Sq={} Sk={} D={} Dv={} pass={}", p.mask->name(),
                     p.mask->params_json(), s.batch, s.heads_q, s.heads_kv, s.value_heads(), s.seqlen_q,
                     s.seqlen_k, s.head_dim, s.value_dim(), to_string(p.pass));
}

Shape shape_of(const Heads& h, std::int64_t batch, std::int64_t sq, std::int64_t sk) {
  Shape s;
  s.batch = batch;
  s.heads_q = h.hq;
  s.heads_kv = h.hk;
  s.heads_v = h.hv;
  s.seqlen_q = sq;
  s.seqlen_k = sk;
  s.head_dim = h.d;
  s.head_dim_v = h.dv;
  return s;
}

void require_outputs_close(const Outputs& got, const Outputs& want, const KernelCase& c,
                           const std::string& who) {
  const CheckResult r = compare_outputs(got, want, c.problem.pass, 1e-5, 1e-4);
  INFO(who << ": " << describe(c.problem) << " worst " << r.worst << " rel_l2 " << r.rel_l2_err);
  REQUIRE(r.passed);
}

BackendInfo plain_backend_info(const std::string& name) {
  BackendInfo info;
  info.name = name;
  info.dtypes = {DType::fp32};
  return info;
}

Problem small_causal_problem() {
  Problem p;
  p.shape = Shape{1, 2, 2, 16, 16, 8, 0, 0};
  p.mask = build_mask({"causal", {}}, 16, 16);
  return p;
}

void require_strategies_refuse(const Problem& p, const std::string& reason_part) {
  const Backend& flash_backend = *Registry::instance().find_backend("cpu.flash");
  int refused = 0;
  for (const auto& entry : Registry::instance().strategies()) {
    if (entry.name == "none") continue;
    Problem cp = p;
    cp.strategy = entry.name;
    cp.world_size = 2;
    const Support r = entry.strategy->supports(cp, flash_backend);
    INFO(entry.name << ": " << r.reason);
    REQUIRE_FALSE(r.ok);
    CHECK(r.reason.find(reason_part) != std::string::npos);
    ++refused;
  }
  CHECK(refused >= 6);
}

}  // namespace attnbench::test
