// Ulysses × ring execution: covers ring, ring_zigzag, double_ring (degree 1), ulysses (one ring slot) and
// usp.
#pragma once

#include "backends/cp/cp_execution.hpp"

namespace attnbench::cp {

struct UspConfig {
  int ulysses_degree = 1;                       // u: ranks sharing one ring slot by heads
  int window = 0;                               // inner ring size over the P/u ring slots (0: all of them)
  Balance token_balance = Balance::contiguous;  // layout for `balance: tokens`
  CpOptions options;
  std::string name;  // strategy name, for messages
};

// Rank = slot * u + member. Ring slot s owns the token ranges T_s (contiguous,
// zigzag or area-balanced); member m holds piece m of every range of T_s.
// An all-to-all inside the slot turns sequence shards into head shards (T_s on
// heads_q/u heads), the two-level ring runs over the slots, and an all-to-all
// brings O/LSE (and dQ/dK/dV) back to sequence shards.
std::unique_ptr<CpExecution> make_usp_execution(const Problem&, const ChunkKernel&, const Inputs&, Resources&,
                                                const UspConfig&);

}  // namespace attnbench::cp
