// The communicator interface CP strategies talk through (MPI across ranks, or a single process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnbench {

// A posted nonblocking operation; wait() completes it (idempotent).
class CommRequest {
 public:
  virtual ~CommRequest() = default;
  virtual void wait() = 0;
};
using CommRequestPtr = std::unique_ptr<CommRequest>;

enum class ReduceOp { sum, max, min };

// Ranks 0..size()-1 of one group. Collectives must be called by every rank of
// the group in the same order. Element counts are per rank, in floats; the
// receive displacements of the v-collectives are the prefix sums of the counts.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string kind() const = 0;  // "mpi" or "local"

  virtual void barrier() = 0;
  // A barrier that sleeps while it waits, for ranks with nothing to do (they
  // must not steal cores from the ranks being timed).
  virtual void idle_barrier() = 0;

  virtual CommRequestPtr isend(const void* buf, std::size_t bytes, int dest, int tag) = 0;
  virtual CommRequestPtr irecv(void* buf, std::size_t bytes, int src, int tag) = 0;
  // Paired send to `dest` and receive from `src`, posted together; a pair with
  // itself is a copy. The returned request completes both.
  CommRequestPtr exchange(const void* send, std::size_t send_bytes, int dest, void* recv,
                          std::size_t recv_bytes, int src, int tag);
  void sendrecv(const void* send, std::size_t send_bytes, int dest, void* recv, std::size_t recv_bytes,
                int src, int tag) {
    exchange(send, send_bytes, dest, recv, recv_bytes, src, tag)->wait();
  }

  virtual void alltoallv(const float* send, const std::vector<std::int64_t>& send_counts, float* recv,
                         const std::vector<std::int64_t>& recv_counts) = 0;
  virtual CommRequestPtr iallgatherv(const float* send, std::int64_t count, float* recv,
                                     const std::vector<std::int64_t>& counts) = 0;
  void allgatherv(const float* send, std::int64_t count, float* recv,
                  const std::vector<std::int64_t>& counts) {
    iallgatherv(send, count, recv, counts)->wait();
  }
  // Sums `send` (all ranks' blocks, laid out by `counts`) and leaves block rank() in recv.
  virtual void reduce_scatter(const float* send, float* recv, const std::vector<std::int64_t>& counts) = 0;
  virtual void allreduce(double* data, std::size_t n, ReduceOp) = 0;
  virtual void broadcast(void* buf, std::size_t bytes, int root) = 0;

  // Ranks with the same color form a communicator ordered by key; color < 0
  // takes part in the split and gets nullptr.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
  // The same group with its own message space (a ring that must not match another's messages).
  virtual std::unique_ptr<Communicator> dup() = 0;

  // Payload bytes this process sent to other ranks, over this communicator and
  // every one split or duplicated from it (the counter is shared).
  virtual std::uint64_t bytes_sent() const = 0;
  // Ends the whole job on every rank with a non-zero exit.
  [[noreturn]] virtual void abort(int code) = 0;
};

}  // namespace attnbench
