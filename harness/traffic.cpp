// The `bytes` convention (see traffic.hpp): what an ideal kernel reads and writes once.
#include "harness/traffic.hpp"

#include "masks/visible_keys.hpp"

namespace attnbench {

double pass_bytes(const Problem& p) {
  const auto& s = p.shape;
  const double keys = p.mask ? static_cast<double>(masks::visible_key_count(*p.mask)) : 0.0;
  const double q = double(s.batch) * double(s.seqlen_q) * double(s.heads_q) * double(s.head_dim);
  const double o = double(s.batch) * double(s.seqlen_q) * double(s.heads_q) * double(s.value_dim());
  const double k = double(s.batch) * keys * double(s.heads_k()) * double(s.head_dim);
  const double v = double(s.batch) * keys * double(s.value_heads()) * double(s.value_dim());
  const double lse = double(s.batch) * double(s.heads_q) * double(s.seqlen_q);
  double elements = q + k + v + o + lse;                     // read Q, K, V; write O, LSE
  if (pass_has_backward(p.pass)) elements += o + q + k + v;  // dO, dQ, dK, dV
  return elements * static_cast<double>(dtype_size(p.dtype));
}

}  // namespace attnbench
