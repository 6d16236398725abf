// The device communicator CP strategies use for `comm: nccl`: grouped send/recv and collectives on a stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/comm.hpp"

namespace attnbench::comm {

// An opaque stream: a cudaStream_t for NCCL; the host fake ignores it (its operations
// complete before they return, i.e. on a stream that is always synchronous).
using StreamHandle = void*;

// The operations NCCL offers point-to-point and collectively, with NCCL's rules:
// sends and receives posted between group_start() and group_end() progress together
// (a ring step posts its send and its receive in one group, or the ranks deadlock);
// messages between two ranks match in the order they were posted; every rank of the
// communicator calls a collective in the same order. Sizes are bytes. Buffers are
// device memory for NCCL and host memory for the fake.
class DeviceComm {
 public:
  virtual ~DeviceComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string kind() const = 0;  // "nccl" or "host-fake"

  virtual void group_start() = 0;
  virtual void group_end() = 0;
  virtual void send(const void* buf, std::size_t bytes, int peer, StreamHandle) = 0;
  virtual void recv(void* buf, std::size_t bytes, int peer, StreamHandle) = 0;

  // Every rank's `bytes[r]` bytes into `recv` at the prefix sums of `bytes`. NCCL's
  // ncclAllGather needs equal sizes, so the uneven case (CP layouts are uneven) is a
  // group of sends and receives, as NCCL's documentation recommends for v-collectives.
  virtual void all_gatherv(const void* send, void* recv, const std::vector<std::size_t>& bytes, StreamHandle);
  // Block j of `send` (send_bytes[j], at the prefix sums) goes to rank j; block i of
  // `recv` comes from rank i. Grouped send/recv: NCCL has no all-to-all-v.
  virtual void all_to_allv(const void* send, const std::vector<std::size_t>& send_bytes, void* recv,
                           const std::vector<std::size_t>& recv_bytes, StreamHandle);

  // Payload bytes this rank sent to other ranks.
  virtual std::uint64_t bytes_sent() const = 0;
};

// Why this build cannot make an NCCL communicator; empty when it can (built with NCCL:
// ATTNBENCH_HAVE_NCCL, harness/comm/nccl_comm.cpp).
std::string nccl_unavailable_reason();
// "NCCL 2.28.9 (libnccl.so.2)": the library loaded at run time; empty when none is.
std::string nccl_library_note();
// Bootstraps NCCL over `host` (rank 0's ncclGetUniqueId, broadcast over `host`, i.e.
// MPI_Bcast under MPI; then ncclCommInitRank on the current CUDA device, one per rank);
// collective over `host`. Throws std::runtime_error naming the reason when NCCL is absent.
std::unique_ptr<DeviceComm> make_nccl_device_comm(Communicator& host);

// Prefix sums of `sizes` (the offsets of the blocks they describe).
std::vector<std::size_t> offsets_of(const std::vector<std::size_t>& sizes);

}  // namespace attnbench::comm
