// The context-parallel strategy interface: a strategy wraps a chunk-capable backend on many ranks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"

namespace attnbench {

struct StrategyInfo {
  std::string name;  // e.g. "ring_zigzag"
  std::string description;
  std::vector<std::string> parameters;  // scenario option names it reads (ulysses_degree...)
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual StrategyInfo info() const = 0;
  virtual Support supports(const Problem&, const Backend& kernel) const = 0;
  // Every rank of resources.comm calls prepare with the same global inputs;
  // the execution shards them itself. fetch_outputs returns the gathered
  // global tensors on every rank.
  virtual std::unique_ptr<Execution> prepare(const Problem&, const Backend& kernel, const Inputs&,
                                             Resources&) = 0;
};

}  // namespace attnbench
