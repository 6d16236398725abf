// Host tensors exchanged between the runner and a backend: inputs in, outputs back.
#pragma once

#include <cstdint>
#include <vector>

#include "attnbench/memory.hpp"
#include "attnbench/problem.hpp"

namespace attnbench {

// Inputs of a case, generated once from the seed in fp32 with values already
// rounded to the case's dtype, so a bf16 backend and the fp64 reference see
// exactly the same numbers. Layout [B, S, H, D]; dout only for backward passes.
struct Inputs {
  std::vector<float> q, k, v, dout;
};

// What a backend returns after its last iteration, in fp32 on the host.
// Forward passes fill o and lse ([B, Hq, Sq], natural log, -inf for rows with no
// allowed key); backward passes fill dq, dk, dv; fwd_bwd fills all five.
struct Outputs {
  std::vector<float> o, lse, dq, dk, dv;
};

// fetch_outputs() for host backends: copies (and converts to fp32) the tensors
// the pass produces — o and lse for forward passes, dq, dk, dv for backward ones.
template <class Buffer>
void copy_host_outputs(Pass pass, const Buffer& o, const Buffer& lse, const Buffer& dq, const Buffer& dk,
                       const Buffer& dv, Outputs& out) {
  auto copy = [](const Buffer& src, std::vector<float>& dst) {
    dst.assign(src.data(), src.data() + src.size());
  };
  if (pass_has_forward(pass)) {
    copy(o, out.o);
    copy(lse, out.lse);
  }
  if (pass_has_backward(pass)) {
    copy(dq, out.dq);
    copy(dk, out.dk);
    copy(dv, out.dv);
  }
}

}  // namespace attnbench
