// The capability step of a case, asked twice: at expansion (invalid answers are bad input) and before it
// runs.
#pragma once

#include "attnbench/backend.hpp"
#include "harness/scenario.hpp"

namespace attnbench {

// A single-device case asks its backend; a CP case asks its strategy given the
// kernel backend, after checking that every option it sets is one the strategy
// reads (StrategyInfo::parameters). Unregistered names answer unsupported. A dynamic
// mask (a selector) also needs masks per (batch, head), which it runs as.
Support capability(const Case&);

// Throws InputError "FILE: <reason>" for the first case whose answer is invalid
// (a bad option or parameter), so a sweep is refused before anything runs.
void refuse_invalid(const Scenario&, const std::vector<Case>&);

}  // namespace attnbench
