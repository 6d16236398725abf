// What every CP execution shares: options, timing split, bytes counting, metrics, gathering outputs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/comm.hpp"
#include "attnbench/strategy.hpp"
#include "backends/cp/layout.hpp"
#include "backends/cp/ring_engine.hpp"

namespace attnbench::cp {

// Scenario options a CP strategy reads (DESIGN.md scenario `options`).
struct CpOptions {
  bool balance_area = false;  // balance: tokens | area
  int chunks_per_rank = 8;    // area balance: chunks per rank (per ring slot)
  int ulysses_degree = 0;     // usp: 0 = default
  int window = 0;             // double_ring: inner ring size; 0 = default
  bool nccl = false;          // comm: host (default) | nccl (docs/nccl.md)
};
// Throws InputError naming the option and its accepted values.
CpOptions parse_options(const Problem&);
// The capability answer for the options: invalid (the parse_options message) or yes.
Support options_support(const Problem&);

// The chunk kernel of a backend, or nullptr when it cannot serve CP strategies.
const ChunkKernel* chunk_kernel_of(const Backend&);
// `comm: nccl`: why this case cannot move its blocks with NCCL (docs/nccl.md); yes for comm: host.
Support comm_support(const Problem&, const Backend&);
// Checks shared by every strategy: Sq == Sk, a chunk kernel, the backend's own capability,
// then the communication path.
Support common_support(const Problem&, const Backend&);
// Ulysses head split over `degree` ranks: heads_q divisible, KV heads divisible or replicated.
Support ulysses_support(const Problem&, int degree, const std::string& strategy);

class CpExecution : public Execution {
 public:
  CpExecution(const Problem& p, Communicator& comm)
      : p_(p),
        comm_(comm),
        B_(p.shape.batch),
        Hq_(p.shape.heads_q),
        Hkv_(p.shape.heads_kv),
        D_(p.shape.head_dim) {}
  // The part of preparing that communicates (sub-communicators, the forward of a
  // `bwd` pass). Called once every rank has allocated successfully.
  virtual void setup() = 0;

  IterationTime timed_run() override;
  void run() override {
    ComputeClock clock;
    iterate(clock);
  }
  std::vector<Metric> metrics() override;
  // Allowed pairs (per head and batch entry) this rank attended at each step of its last pass,
  // in schedule order (backends/cp/schedule.hpp): what the scale model must reproduce.
  virtual std::vector<std::int64_t> step_areas() const = 0;

 protected:
  virtual void iterate(ComputeClock&) = 0;
  // Gathers a chunk-major local tensor ([outer, n, width] per range) of every rank into
  // a global [outer, S, width] one; `ranks_ranges` are every rank's ranges.
  void gather(const float* local, std::int64_t outer, std::int64_t width,
              const std::vector<Ranges>& ranks_ranges, std::vector<float>& global);
  // Gathers the tensors the pass produced (O and LSE; dQ, dK and dV) from local
  // [B, n, H, D] / [B, H, n] ones into `out`; the others may be null.
  void gather_outputs(const std::vector<Ranges>& ranks_ranges, const float* o, const float* lse,
                      const float* dq, const float* dk, const float* dv, Outputs& out);
  // Mask area each rank computes (query rows × keys × its share of heads), for imbalance.
  std::vector<double> rank_areas_;
  std::string layout_note_;  // e.g. "zigzag" or "area(8/rank)"
  Problem p_;
  Communicator& comm_;
  std::int64_t B_, Hq_, Hkv_, D_;  // the problem's batch, heads and head size
  std::uint64_t last_bytes_ = 0;
};

// Prepares on every rank: `make` allocates (no communication) and the ranks agree
// on success before `setup()` communicates; a failure on any rank throws on all.
std::unique_ptr<Execution> prepare_agreed(Communicator&,
                                          const std::function<std::unique_ptr<CpExecution>()>& make);

}  // namespace attnbench::cp
