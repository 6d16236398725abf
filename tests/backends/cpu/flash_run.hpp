// Runs one cpu.flash kernel variant (an ISA's KernelSet) on a test case through the driver, for the tests
// that check every ISA path rather than the registered backend's choice.
#pragma once

#include "backends/cpu/flash/flash_driver.hpp"
#include "kernel_cases.hpp"

namespace attnbench::test {

// Forward, and the backward when the case's pass has one; threads 0 = OpenMP's default.
Outputs run_flash(const cpu::flash::KernelSet& kernels, const KernelCase& c, int threads);

}  // namespace attnbench::test
