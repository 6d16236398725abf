// SIGINT/SIGTERM during `attnbench run`: the first asks the sweep to stop at the next case boundary, a second
// exits at once.
#pragma once

namespace attnbench {

// Installs the handlers (idempotent). `announce`: the first signal prints one line
// (world rank 0 only, so a job under mpirun says it once).
void install_interrupt_handlers(bool announce);
// The signal that asked the run to stop (SIGINT or SIGTERM), or 0.
int interrupt_signal();
// The exit code of a run stopped by `signal`: 128 + signal (130 SIGINT, 143 SIGTERM).
int interrupt_exit_code(int signal);
// "SIGINT" / "SIGTERM".
const char* signal_name(int signal);

}  // namespace attnbench
