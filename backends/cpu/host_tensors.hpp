// What the fp32 host backends (cpu.flash, cpu.math) do alike before a case: check the inputs' sizes
// and allocate the outputs of the pass, charged to the case's memory budget.
#pragma once

#include <stdexcept>
#include <string>

#include "attnbench/backend.hpp"
#include "attnbench/memory.hpp"

namespace attnbench::cpu {

// Throws std::logic_error naming `backend` when Q, K, V (and dO for a pass with a backward)
// do not have the problem's sizes: the harness made them, so a mismatch is a bug.
inline void check_input_sizes(const Problem& p, const Inputs& in, const std::string& backend) {
  const auto q = static_cast<std::size_t>(p.shape.q_elems()), k = static_cast<std::size_t>(p.shape.k_elems()),
             v = static_cast<std::size_t>(p.shape.v_elems()), o = static_cast<std::size_t>(p.shape.o_elems());
  if (in.q.size() != q || in.k.size() != k || in.v.size() != v)
    throw std::logic_error(backend + ": input sizes do not match the problem shape");
  if (pass_has_backward(p.pass) && in.dout.size() != o)
    throw std::logic_error(backend + ": dout size does not match the problem shape");
}

// O and LSE for every pass (the backward needs the forward's), dQ, dK and dV for a pass with a backward.
inline void allocate_outputs(const Problem& p, MemoryTracker& mem, HostBuffer<float>& o,
                             HostBuffer<float>& lse, HostBuffer<float>& dq, HostBuffer<float>& dk,
                             HostBuffer<float>& dv) {
  o = HostBuffer<float>(static_cast<std::size_t>(p.shape.o_elems()), mem);
  lse = HostBuffer<float>(static_cast<std::size_t>(p.shape.lse_elems()), mem);
  if (!pass_has_backward(p.pass)) return;
  dq = HostBuffer<float>(static_cast<std::size_t>(p.shape.q_elems()), mem);
  dk = HostBuffer<float>(static_cast<std::size_t>(p.shape.k_elems()), mem);
  dv = HostBuffer<float>(static_cast<std::size_t>(p.shape.v_elems()), mem);
}

}  // namespace attnbench::cpu
