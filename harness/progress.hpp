// Progress display: a rewriting line with case count and ETA on a terminal, plain log lines otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "harness/eta.hpp"
#include "harness/scenario.hpp"
#include "harness/schema/result_row.hpp"

namespace attnbench {

class Progress {
 public:
  // `to_run`: the cases that will run, in order (their backend, pass and FLOPs drive the ETA).
  Progress(const std::vector<Case>& to_run, bool enabled, std::FILE* out = stderr);
  void start(const Case&, std::size_t done);
  void finish(const Case&, const ResultRow&);
  void close();

 private:
  double elapsed() const;
  std::string timing(std::size_t finished) const;

  struct Planned {
    std::string group;  // backend and pass
    double work;        // FLOPs
  };
  struct Left {
    double cases = 0, work = 0;
  };
  std::vector<Planned> plan_;
  std::map<std::string, Left> left_;  // per group, the cases not finished yet
  EtaModel eta_;
  std::size_t total_, done_ = 0;
  bool enabled_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point begin_, case_begin_;
};

}  // namespace attnbench
