// Instructions retired by this process: the deterministic CPU metric (`timing.metric: instructions`).
// Hardware counters through perf_event_open where the kernel allows; else valgrind's callgrind, when
// the binary runs under `valgrind --tool=callgrind --instr-atstart=no` (see docs/ci-gate.md).
#pragma once

#include <memory>
#include <string>

namespace attnbench {

class InstructionCounter {
 public:
  virtual ~InstructionCounter() = default;
  // "perf" or "callgrind": which counter the rows were measured with.
  virtual std::string name() const = 0;
  // Counts this process's user-space instructions from start() to stop().
  virtual void start() = 0;
  // The instructions since start(); throws std::runtime_error when they cannot be read.
  virtual double stop() = 0;
};

// The counter this process can use, opened once: callgrind when running under it, else
// perf_event_open; nullptr when neither works, with the reasons in `why`. Open it before
// OpenMP starts its threads (perf counts threads created after the counter opened).
InstructionCounter* instruction_counter(std::string* why = nullptr);

// The instruction total of a callgrind dump: the first number of its "totals:" line (else
// "summary:"). Throws std::runtime_error naming `path` when the dump has neither.
double callgrind_dump_instructions(const std::string& text, const std::string& path);

// The dump file callgrind wrote for dump number `n` of process `pid`, given the
// --callgrind-out-file pattern from the command line ("" = callgrind.out.%p).
std::string callgrind_dump_path(const std::string& out_file_pattern, long pid, int n);

}  // namespace attnbench
