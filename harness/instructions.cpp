// The two instruction counters: perf_event_open (hardware) and callgrind's client requests (simulation).
#include "harness/instructions.hpp"

#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifdef ATTNBENCH_HAVE_VALGRIND
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>
#endif

namespace attnbench {

namespace {

// Hardware counter of user-space instructions, this process and the threads it starts afterwards.
class PerfCounter final : public InstructionCounter {
 public:
  explicit PerfCounter(int fd) : fd_(fd) {}
  ~PerfCounter() override { close(fd_); }
  std::string name() const override { return "perf"; }
  void start() override {
    ioctl(fd_, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
  }
  double stop() override {
    ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
    std::uint64_t count = 0;
    if (read(fd_, &count, sizeof count) != static_cast<ssize_t>(sizeof count))
      throw std::runtime_error(
          fmt::format("perf_event_open: cannot read the counter ({})", std::strerror(errno)));
    return static_cast<double>(count);
  }

  static std::unique_ptr<InstructionCounter> open(std::string& why) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    attr.disabled = 1;
    attr.exclude_kernel = 1;  // the kernel's share moves with interrupts and page faults
    attr.exclude_hv = 1;
    attr.inherit = 1;  // OpenMP threads created later count too
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
      why = fmt::format("perf_event_open: {} (kernel.perf_event_paranoid, a container or a VM without PMU)",
                        std::strerror(errno));
      return nullptr;
    }
    return std::make_unique<PerfCounter>(static_cast<int>(fd));
  }

 private:
  int fd_;
};

#ifdef ATTNBENCH_HAVE_VALGRIND
// Under callgrind: instrument, zero, run, dump, and read the dump's total back. Run with
// --instr-atstart=no so that everything outside the timed iterations runs uninstrumented (fast).
class CallgrindCounter final : public InstructionCounter {
 public:
  std::string name() const override { return "callgrind"; }
  void start() override {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
  }
  double stop() override {
    CALLGRIND_DUMP_STATS_AT("attnbench timed iterations");
    CALLGRIND_STOP_INSTRUMENTATION;
    const char* env = std::getenv("ATTNBENCH_CALLGRIND_OUT");
    const std::string path = callgrind_dump_path(env ? env : "", static_cast<long>(getpid()), ++dumps_);
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error(
          fmt::format("callgrind dump {} not found (with --callgrind-out-file=PATTERN, set "
                      "ATTNBENCH_CALLGRIND_OUT=PATTERN too)",
                      path));
    std::stringstream text;
    text << in.rdbuf();
    in.close();
    const double n = callgrind_dump_instructions(text.str(), path);
    std::filesystem::remove(path);  // ours, one per case: do not litter the folder
    if (!(n > 0))
      throw std::runtime_error(
          fmt::format("callgrind counted no instructions in {} (run without "
                      "--collect-atstart=no; --instr-atstart=no is the fast choice)",
                      path));
    return n;
  }

 private:
  int dumps_ = 0;
};
#endif

}  // namespace

InstructionCounter* instruction_counter(std::string* why) {
  static std::string reason;
  static const std::unique_ptr<InstructionCounter> counter = []() -> std::unique_ptr<InstructionCounter> {
#ifdef ATTNBENCH_HAVE_VALGRIND
    if (RUNNING_ON_VALGRIND) return std::make_unique<CallgrindCounter>();
    const std::string vg = "not running under valgrind --tool=callgrind";
#else
    const std::string vg = "built without valgrind headers (callgrind fallback off)";
#endif
    std::string perf_why;
    auto perf = PerfCounter::open(perf_why);
    if (!perf) reason = perf_why + "; " + vg;
    return perf;
  }();
  if (why != nullptr) *why = reason;
  return counter.get();
}

double callgrind_dump_instructions(const std::string& text, const std::string& path) {
  double summary = -1;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // "totals:" holds the events collected in the dump's range; the first event is Ir.
    for (const char* key : {"totals:", "summary:"}) {
      const std::size_t n = std::strlen(key);
      if (line.compare(0, n, key) != 0) continue;
      std::istringstream v(line.substr(n));
      double x = 0;
      if (!(v >> x)) throw std::runtime_error(fmt::format("{}: '{}' holds no number", path, line));
      if (key[0] == 't') return x;
      summary = x;
    }
  }
  if (summary >= 0) return summary;
  throw std::runtime_error(fmt::format("{}: no 'totals:' or 'summary:' line (not a callgrind dump?)", path));
}

std::string callgrind_dump_path(const std::string& pattern, long pid, int n) {
  std::string p = pattern.empty() ? "callgrind.out.%p" : pattern;
  for (std::size_t at = p.find("%p"); at != std::string::npos; at = p.find("%p", at))
    p.replace(at, 2, std::to_string(pid));
  return fmt::format("{}.{}", p, n);
}

}  // namespace attnbench
