// The cpu.flash driver run shared by the CPU kernel tests (see flash_run.hpp).
#include "flash_run.hpp"

namespace attnbench::test {

namespace flash = attnbench::cpu::flash;

Outputs run_flash(const flash::KernelSet& kernels, const KernelCase& c, int threads) {
  const Problem& p = c.problem;
  const flash::Geometry g = flash::geometry_of(p);
  // Masks per (batch, head): the driver's plans of each distinct mask.
  const flash::HeadPlans heads = flash::make_head_plans(p, kernels);
  const flash::HeadPlans* per_head = p.uniform_mask() ? nullptr : &heads;
  const flash::BiasTables bias = flash::make_bias_tables(p);
  Outputs out;
  out.o.resize(p.shape.o_elems());
  out.lse.resize(p.shape.lse_elems());
  flash::run_forward(kernels, *p.mask, g, 0, 0, c.inputs.q.data(), c.inputs.k.data(), c.inputs.v.data(),
                     out.o.data(), out.lse.data(), threads, per_head, &bias.view);
  if (pass_has_backward(p.pass)) {
    out.dq.resize(p.shape.q_elems());
    out.dk.resize(p.shape.k_elems());
    out.dv.resize(p.shape.v_elems());
    flash::run_backward(kernels, *p.mask, g, 0, 0, c.inputs.q.data(), c.inputs.k.data(), c.inputs.v.data(),
                        out.o.data(), out.lse.data(), c.inputs.dout.data(), out.dq.data(), out.dk.data(),
                        out.dv.data(), threads, per_head, &bias.view);
  }
  return out;
}

}  // namespace attnbench::test
