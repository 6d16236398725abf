// The JSON context block: tool, host, CPU, compiler, MPI and GPU facts that make a result file explain
// itself.
#pragma once

#include <functional>
#include <string>

#include "reports/json_writer.hpp"

namespace attnbench {

// Extra context from optional parts (CUDA device, MPI library) registered at start-up.
using ContextProvider = std::function<void(Context&)>;
void add_context_provider(ContextProvider);

// Tool version, git revision, build type, host, CPU model, cores, compiler, plus
// every provider's entries and the scenario text.
Context collect_context(const std::string& scenario_text);

// JSON text of a string value (for building Context entries).
std::string json_string(const std::string&);

}  // namespace attnbench
