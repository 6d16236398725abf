// Test helper: one forward and backward of the device ring plan through the host fake, gathered globally.
#pragma once

#include <string>
#include <vector>

#include "attnbench/comm.hpp"
#include "attnbench/registry.hpp"
#include "backends/cp/cp_execution.hpp"
#include "backends/cp/host_ring_lanes.hpp"
#include "backends/cp/layout.hpp"
#include "backends/cp/ring_plan.hpp"
#include "harness/comm/host_device_comm.hpp"

namespace attnbench::test {

// A rank's chunk-major [outer, n, width] tensors of every rank into a global [outer, S, width] one.
inline std::vector<float> gather_global(Communicator& comm, const std::vector<float>& local,
                                        std::int64_t outer, std::int64_t S, std::int64_t width,
                                        const std::vector<cp::Ranges>& ranks) {
  std::vector<std::int64_t> counts;
  std::int64_t total = 0;
  for (const auto& r : ranks) total += counts.emplace_back(outer * cp::total_tokens(r) * width);
  std::vector<float> all(static_cast<std::size_t>(total));
  comm.allgatherv(local.data(), counts[comm.rank()], all.data(), counts);
  std::vector<float> global(static_cast<std::size_t>(outer * S * width), 0.0f);
  const float* at = all.data();
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    cp::insert(at, outer, S, width, ranks[r], global.data());
    at += counts[r];
  }
  return global;
}

// The plan_ring forward then backward of every rank of `comm` (a ring of comm.size() members laid
// out by `balance`), run by HostRingLanes over the host DeviceComm; returns the gathered tensors.
inline Outputs run_device_ring(const Problem& p, const std::string& backend, const Inputs& in,
                               Communicator& comm, cp::Balance balance,
                               std::vector<cp::StepTime>* times = nullptr) {
  const int P = comm.size(), me = comm.rank();
  const auto& s = p.shape;
  const std::int64_t S = s.seqlen_q, B = s.batch, qw = s.heads_q * s.head_dim, kw = s.heads_kv * s.head_dim;
  const auto members = cp::assign(*p.mask, S, P, balance);
  const std::int64_t n = cp::total_tokens(members[me]);
  auto local = [&](const std::vector<float>& global, std::int64_t width) {
    std::vector<float> x(static_cast<std::size_t>(B * n * width));
    cp::extract(global.data(), B, S, width, members[me], x.data());
    return x;
  };
  const auto q = local(in.q, qw), k = local(in.k, kw), v = local(in.v, kw), dout = local(in.dout, qw);
  std::vector<float> o(q.size()), lse(static_cast<std::size_t>(B * n * s.heads_q)), dq(q.size()),
      dk(k.size()), dv(v.size());
  MemoryTracker mem;
  const ChunkKernel& kernel = *cp::chunk_kernel_of(*Registry::instance().find_backend(backend));
  cp::HostRingLanes lanes(me, members, cp::geometry_of(p), kernel, mem);
  auto dcomm = comm::make_host_device_comm(comm);
  lanes.forward(cp::plan_ring(me, P, false), *dcomm, q.data(), k.data(), v.data(), o.data(), lse.data());
  if (times != nullptr) *times = lanes.last_step_times();
  lanes.backward(cp::plan_ring(me, P, true), *dcomm, q.data(), k.data(), v.data(), o.data(), lse.data(),
                 dout.data(), dq.data(), dk.data(), dv.data());
  Outputs out;
  out.o = gather_global(comm, o, B, S, qw, members);
  out.lse = gather_global(comm, lse, B * s.heads_q, S, 1, members);
  out.dq = gather_global(comm, dq, B, S, qw, members);
  out.dk = gather_global(comm, dk, B, S, kw, members);
  out.dv = gather_global(comm, dv, B, S, kw, members);
  return out;
}

}  // namespace attnbench::test
