// The process's place in a launch: MPI set-up, the world communicator, sub-communicators per world size.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attnbench/comm.hpp"

namespace attnbench::comm {

// True when a launcher (mpirun/srun/mpiexec) started this process.
bool launched_under_mpi();

// Sets up MPI when built with it and launched under a launcher; otherwise the
// world is the single-process communicator. Idempotent.
void init_world(int* argc = nullptr, char*** argv = nullptr);
// Frees cached communicators and finalizes MPI (if this process initialized it).
void finalize_world();
// RAII form for a `run` verb: init on construction, finalize on destruction.
struct WorldScope {
  WorldScope() { init_world(); }
  ~WorldScope() { finalize_world(); }
  WorldScope(const WorldScope&) = delete;
  WorldScope& operator=(const WorldScope&) = delete;
};

Communicator& world();
bool is_lead();  // world rank 0: the rank that prints and writes files

// Sets the `mpi_library` and `world_size` entries of a results.json context block.
void describe_launch(std::vector<std::pair<std::string, std::string>>& context);

// The communicator of world ranks [0, size), created on first use (collective
// over the world: every rank must ask for the same sizes in the same order);
// nullptr on ranks outside it. Throws InputError when size exceeds the launch.
Communicator* first_ranks(int size);

// Throws InputError naming `where`, the largest world size asked for and the launch size.
void check_world_size(int largest, const std::string& where);

// Runs `step` on every rank of `comm` and agrees on the outcome before anyone
// communicates: if any rank threw, every rank throws (OutOfMemory stays
// OutOfMemory) with the message of the lowest failing rank, prefixed "rank R: ".
void agree(Communicator& comm, const std::function<void()>& step);
// The same for an exception already caught (null: this rank succeeded).
void agree(Communicator& comm, std::exception_ptr local);

// A failure the other ranks cannot learn of (they are mid-communication):
// prints one line and ends the job on every rank with a non-zero exit.
[[noreturn]] void fatal(Communicator& comm, const std::string& message);
// Runs `step`; any exception is fatal when comm has more than one rank
// (with one rank it is rethrown, since nobody can be left waiting).
void collective(Communicator& comm, const std::string& what, const std::function<void()>& step);

}  // namespace attnbench::comm
