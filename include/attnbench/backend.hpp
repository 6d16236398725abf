// The backend interface: a backend describes itself, answers a capability query, and runs one case.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/memory.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensors.hpp"

namespace attnbench {

// What a backend says of itself (`attnbench list backends`, the capability query).
struct BackendInfo {
  std::string name;  // registry name, e.g. "cpu.flash"
  Device device = Device::cpu;
  std::string description;  // one line
  std::vector<DType> dtypes;
  std::vector<std::int64_t> head_dims;  // empty: any multiple of head_dim_multiple
  std::int64_t head_dim_multiple = 1;
  std::vector<std::string> masks;  // empty: every mask of the library
  std::vector<Pass> passes{Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  bool gqa = true;
  // Separate K and V heads (heads_k != heads_v) and a V head dim of its own (head_dim_v
  // != head_dim): off by default, so a backend that assumes K and V alike says unsupported.
  bool separate_kv_heads = false;
  bool head_dim_v = false;
  // Masks that differ per batch element or query head (Problem::head_masks): off by default, so
  // a backend that takes one mask for the whole batch says unsupported.
  bool head_masks = false;
  // An additive score bias (Problem::bias): off by default, so a backend without it says unsupported.
  bool bias = false;
  // Correctness tolerance on the relative L2 error; 0 uses the harness default
  // for the dtype (approximate backends set their own).
  double tolerance_fwd = 0.0;
  double tolerance_bwd = 0.0;
  // An approximate algorithm (HyperAttention, linear, random features), not exact attention: its rows
  // are judged on the output O alone (`approx_rel_l2`, against tolerance_fwd), never on the LSE, and
  // are `mismatch` only beyond its tolerance, never for being approximate (DESIGN.md "Dynamic and
  // approximate attention").
  bool approximate = false;
  // Scenario option names the backend reads from Problem::options (e.g. "samples"); a single-device
  // case passes it these options only, and an option no backend or strategy takes is refused.
  std::vector<std::string> parameters;
};

// The answer of a capability query: supported; unsupported (a valid case this
// backend or strategy cannot run: an `unsupported` row); or invalid (the case's
// options or parameters are wrong: bad input, refused when the sweep is expanded,
// before anything runs, with exit 2). `reason` of an invalid answer names the
// field, the bad value and the accepted values, e.g.
// "options.balance: 'weird' is not accepted (accepted: tokens, area)".
struct Support {
  bool ok = true;
  std::string reason;
  bool bad_input = false;  // with !ok: invalid rather than unsupported
  // With ok, an approximate backend's tolerance on O for this case when tighter than its
  // BackendInfo::tolerance_fwd: a regime where the method is exact (HyperAttention with one block
  // over every key, BASED with a window over every key), so a broken kernel cannot hide behind
  // the sanity bound. 0: BackendInfo's.
  double tolerance_fwd = 0.0;
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why), false}; }
  static Support invalid(std::string why) { return {false, std::move(why), true}; }
  bool supported() const { return ok; }
  bool is_invalid() const { return !ok && bad_input; }
};

// Checks a problem against the lists of a BackendInfo (dtype, head dim, mask, pass, GQA).
Support check_info(const BackendInfo&, const Problem&);

// A named extra value of a result row (nvbench-style summary): written as a
// CSV column after the required ones and as a JSON key.
struct Metric {
  std::string name;
  double value = std::numeric_limits<double>::quiet_NaN();
  std::string text;   // used instead of value when non-empty
  bool json = false;  // text is raw JSON (e.g. per-rank arrays), written unquoted in results.json
};

// Timing of one iteration. Distributed executions also split compute and
// exposed communication (NaN when not applicable).
struct IterationTime {
  double seconds = 0.0;
  double compute_seconds = std::numeric_limits<double>::quiet_NaN();
  double comm_seconds = std::numeric_limits<double>::quiet_NaN();
};

// Per-device resources a case may use; memory is charged to the trackers.
struct Resources {
  MemoryTracker* host = nullptr;
  MemoryTracker* device = nullptr;     // CUDA backends; equals host for CPU-only builds
  class Communicator* comm = nullptr;  // CP strategies; null for single-device cases
  int threads = 0;                     // 0: all cores
};

// One prepared case. The runner calls run() for warm-up and timing, then
// fetch_outputs() once for the correctness check. Everything slow (plans,
// allocations, uploads, the forward pass needed by a `bwd` pass) belongs in
// the backend's prepare(), never in run().
class Execution {
 public:
  virtual ~Execution() = default;
  virtual void run() = 0;
  // Default: steady clock around run(). GPU executions use events on their stream.
  virtual IterationTime timed_run() {
    auto t0 = std::chrono::steady_clock::now();
    run();
    auto t1 = std::chrono::steady_clock::now();
    return {std::chrono::duration<double>(t1 - t0).count()};
  }
  virtual void fetch_outputs(Outputs& out) = 0;
  // Extra columns (bytes sent, load imbalance, per-rank times...).
  virtual std::vector<Metric> metrics() { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendInfo info() const = 0;
  // Default: the lists of info(); override to add reasons (memory, device...).
  virtual Support supports(const Problem& p) const { return check_info(info(), p); }
  virtual std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) = 0;
};

// ---------------------------------------------------------------------------
// Chunk kernels: the optional capability that CP strategies build on. A chunk
// kernel attends queries [q_begin, q_begin + nq) to keys [k_begin, k_begin + nk)
// under the *global* mask, in fp32 on the host, with contiguous [B, n, H, D]
// buffers for the chunk only.

struct ChunkTask {
  const Mask* mask = nullptr;
  std::int64_t q_begin = 0, nq = 0;
  std::int64_t k_begin = 0, nk = 0;
  std::int64_t batch = 1, heads_q = 1, heads_kv = 1, head_dim = 0;
  double softmax_scale = 0.0;
  // The case's dtype. Inputs are already representable in it (Inputs); host
  // kernels may compute in fp32 regardless, device kernels store tensors in it.
  DType dtype = DType::fp32;
  // V's heads and head dim (v, dv [B, nk, Hv, Dv]; o, dout [B, nq, Hq, Dv]); 0: as K's.
  // Kernels that take ChunkTasks from CP strategies see them equal (CP refuses otherwise).
  std::int64_t heads_v = 0, head_dim_v = 0;
  std::int64_t value_heads() const { return heads_v > 0 ? heads_v : heads_kv; }
  std::int64_t value_dim() const { return head_dim_v > 0 ? head_dim_v : head_dim; }
  // (Last, so that positional initialisers of the fields above stay valid.)
  // Per-(batch, query head) masks of the whole problem (Problem::head_masks, index b·heads_q + h),
  // or null when `mask` holds for every head; CP strategies refuse such problems, so only whole-problem
  // tasks carry them.
  const std::vector<MaskPtr>* head_masks = nullptr;
  const Mask& mask_at(std::int64_t b, std::int64_t h) const {
    return head_masks == nullptr || head_masks->empty()
               ? *mask
               : *(*head_masks)[static_cast<std::size_t>(b * heads_q + h)];
  }
  // The additive score bias of the whole problem (Problem::bias), or null; CP strategies refuse
  // biased problems, so only whole-problem tasks carry it.
  const Bias* bias = nullptr;
};

class ChunkKernel {
 public:
  virtual ~ChunkKernel() = default;
  // o: [B, nq, Hq, D], lse: [B, Hq, nq]. Rows with no allowed key get o = 0, lse = -inf.
  virtual void forward(const ChunkTask&, const float* q, const float* k, const float* v, float* o,
                       float* lse) const = 0;
  // Gradients of this chunk pair given the *final* o and lse of the query rows
  // (so partial results need no rescaling). Overwrites dq [B,nq,Hq,D],
  // dk and dv [B,nk,Hkv,D].
  virtual void backward(const ChunkTask&, const float* q, const float* k, const float* v, const float* o,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv) const = 0;
};

// Backends that can serve CP strategies also implement this.
class ChunkCapable {
 public:
  virtual ~ChunkCapable() = default;
  virtual const ChunkKernel& chunk_kernel() const = 0;
};

}  // namespace attnbench
