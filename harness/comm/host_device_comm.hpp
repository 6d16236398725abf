// The host fake of DeviceComm: NCCL's grouping and ordering rules over a host Communicator (MPI or local).
#pragma once

#include <memory>

#include "attnbench/comm.hpp"
#include "harness/comm/device_comm.hpp"

namespace attnbench::comm {

// Runs the device plans of `comm: nccl` on the CPU, so CI checks their data movement:
// buffers are host memory, streams are ignored (each group completes inside group_end(),
// as if every stream were synchronous), and a group posts all its receives before its
// sends, like NCCL's fused group, so a ring step cannot deadlock here either.
// Collective over `comm`: takes its own duplicate (its messages never match the host path's).
std::unique_ptr<DeviceComm> make_host_device_comm(Communicator& comm);

}  // namespace attnbench::comm
