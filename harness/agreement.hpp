// Agreement steps of `attnbench run` under MPI: an error or stop on any rank reaches every rank before the
// next collective.
#pragma once

#include <functional>
#include <string>

#include "attnbench/comm.hpp"

namespace attnbench {

// One rank's outcome of a phase: exit_code 0 means it went fine; otherwise the
// CLI's exit code (2 bad input or unusable environment, 1 other failure, 130/143
// interrupted) and the one line to print.
struct Outcome {
  int exit_code = 0;
  std::string message;
  explicit operator bool() const { return exit_code != 0; }
};

// Runs `step` and turns whatever it throws into an Outcome (InputError and
// OutputError: 2; anything else, of any type: 1).
Outcome outcome_of(const std::function<void()>& step);

// Every rank of `comm` calls this at the same point of the run. If any rank's
// outcome is a failure, every rank returns the outcome of the lowest failing rank
// (its message prefixed "rank R: " when R is not 0). The wait sleeps (an idle
// barrier first), so ranks waiting here leave the cores to a rank timing a case.
Outcome agree_outcome(Communicator& comm, const Outcome& local);

}  // namespace attnbench
