// Signal handlers that only set a flag (async-signal-safe); the sweep driver checks it between cases.
#include "harness/interrupt.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

namespace attnbench {

namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_announce = 0;

void say(const char* text) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

// The first signal: remember it; the sweep finishes the case it is in (its timing is
// bounded by timing.timeout_s), writes every report atomically and exits 128+signal.
// A second signal: exit at once (every finished row is already in results.csv).
extern "C" void on_signal(int sig) {
  if (g_signal != 0) {
    if (g_announce) say("attnbench: second signal: exiting now (results.csv holds every finished row)\n");
    ::_exit(128 + sig);
  }
  g_signal = sig;
  if (g_announce)
    say(sig == SIGINT
            ? "attnbench: SIGINT: finishing the current case, then writing the reports (again to exit now)\n"
            : "attnbench: SIGTERM: finishing the current case, then writing the reports (again to exit "
              "now)\n");
}

}  // namespace

void install_interrupt_handlers(bool announce) {
  g_announce = announce ? 1 : 0;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in flight resume instead of failing with EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_signal; }

int interrupt_exit_code(int signal) { return 128 + signal; }

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal";
}

}  // namespace attnbench
