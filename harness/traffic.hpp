// Minimum memory traffic of a case (the `bytes` column), the throughput counterpart of pass_flops.
#pragma once

#include "attnbench/problem.hpp"

namespace attnbench {

// Bytes a pass must move at the least, in the case's dtype element size: read Q
// [B,Sq,Hq,D], K and V only at the keys some query may see (masks::visible_key_count),
// write O [B,Sq,Hq,D] and LSE [B,Hq,Sq]; bwd and fwd_bwd add dO (as O), dQ (as Q),
// dK and dV (as the visible K and V).
double pass_bytes(const Problem&);

}  // namespace attnbench
