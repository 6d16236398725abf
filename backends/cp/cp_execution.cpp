// Shared CP execution code: option parsing, capability checks, timed iterations, gathers, metrics.
#include "backends/cp/cp_execution.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <utility>

#include "harness/comm/device_comm.hpp"
#include "harness/comm/world.hpp"

namespace attnbench::cp {

namespace {

// The values of option `balance` and whether each balances mask area (the
// accepted-values list of messages comes from here).
constexpr std::pair<std::string_view, bool> kBalances[] = {{"tokens", false}, {"area", true}};
constexpr std::pair<std::string_view, bool> kComms[] = {{"host", false}, {"nccl", true}};
constexpr std::string_view kKnownOptions[] = {"balance", "chunks_per_rank", "ulysses_degree", "window",
                                              "comm"};

// The `second` of the entry named `value`, or InputError listing the accepted names.
template <std::size_t N>
bool pick(const std::pair<std::string_view, bool> (&table)[N], const std::string& key,
          const std::string& value) {
  for (const auto& x : table)
    if (x.first == value) return x.second;
  std::vector<std::string_view> accepted;
  for (const auto& x : table) accepted.push_back(x.first);
  throw InputError(
      fmt::format("options.{}: '{}' is not accepted (accepted: {})", key, value, fmt::join(accepted, ", ")));
}

int int_option(const Problem& p, const std::string& key, int fallback, int min) {
  const std::string v = p.option(key, "");
  if (v.empty()) return fallback;
  try {
    std::size_t used = 0;
    const int x = std::stoi(v, &used);
    if (used == v.size() && x >= min) return x;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("options.{}: '{}' is not accepted (accepted: an integer >= {})", key, v, min));
}

}  // namespace

CpOptions parse_options(const Problem& p) {
  for (const auto& [k, v] : p.options)
    if (std::find(std::begin(kKnownOptions), std::end(kKnownOptions), k) == std::end(kKnownOptions))
      throw InputError(
          fmt::format("options.{}: unknown CP option (accepted: {})", k, fmt::join(kKnownOptions, ", ")));
  CpOptions o;
  o.balance_area = pick(kBalances, "balance", p.option("balance", "tokens"));
  o.nccl = pick(kComms, "comm", p.option("comm", "host"));
  o.chunks_per_rank = int_option(p, "chunks_per_rank", 8, 1);
  o.ulysses_degree = int_option(p, "ulysses_degree", 0, 1);
  o.window = int_option(p, "window", 0, 1);
  return o;
}

Support options_support(const Problem& p) {
  try {
    parse_options(p);
  } catch (const InputError& e) {
    return Support::invalid(e.what());
  }
  return Support::yes();
}

const ChunkKernel* chunk_kernel_of(const Backend& b) {
  const auto* c = dynamic_cast<const ChunkCapable*>(&b);
  return c == nullptr ? nullptr : &c->chunk_kernel();
}

Support comm_support(const Problem& p, const Backend& b) {
  if (!parse_options(p).nccl) return Support::yes();
  // What is missing, most fundamental first, so the reason names the thing to change.
  if (b.info().device != Device::cuda)
    return Support::no(fmt::format(
        "comm: nccl moves device buffers between GPUs; backend {} runs on the host (use comm: host)",
        b.info().name));
  if (const std::string why = comm::nccl_unavailable_reason(); !why.empty())
    return Support::no("comm: nccl: " + why);
  // Built and loadable, but never run: the plan (ring_plan.hpp) and the communicator
  // (harness/comm/nccl_comm.cpp) exist; the CUDA chunk kernels still take host fp32 chunks.
  return Support::no(
      "comm: nccl: the NCCL communicator and the double-buffered ring plan are built, but the CUDA chunk "
      "kernels take host fp32 chunks (ChunkStaging) and have no device-pointer entry yet, so no NCCL "
      "execution exists; use comm: host (docs/nccl.md)");
}

Support common_support(const Problem& p, const Backend& b) {
  if (chunk_kernel_of(b) == nullptr)
    return Support::no(fmt::format("backend {} has no chunk kernel (ChunkCapable), which CP strategies need",
                                   b.info().name));
  if (!p.uniform_mask())
    return Support::no(
        fmt::format("{}: masks that differ per batch element or head not supported (the "
                    "chunk pairs and their balance are planned from one mask)",
                    p.strategy));
  if (p.bias)
    return Support::no(
        fmt::format("{}: additive bias not supported (chunk kernels see local indices, "
                    "and the bias is defined on global positions of the whole problem)",
                    p.strategy));
  // K and V share one send buffer and one chunk task of Hk heads by D (ring_engine.hpp kv_width()).
  if (p.shape.value_heads() != p.shape.heads_kv)
    return Support::no(
        fmt::format("{}: heads_k != heads_v not supported (K and V blocks travel as one buffer "
                    "of heads_k x head_dim per token)",
                    p.strategy));
  if (p.shape.value_dim() != p.shape.head_dim)
    return Support::no(
        fmt::format("{}: head_dim_v != head_dim not supported (K and V blocks travel as one "
                    "buffer of heads_k x head_dim per token)",
                    p.strategy));
  if (p.shape.seqlen_q != p.shape.seqlen_k)
    return Support::no("CP strategies shard one sequence: seqlen_q must equal seqlen_k");
  if (p.world_size < 1) return Support::no("world size must be at least 1");
  if (p.shape.seqlen_q < p.world_size)
    return Support::no(
        fmt::format("seqlen {} is shorter than the world size {}", p.shape.seqlen_q, p.world_size));
  Problem single = p;
  single.strategy = "none";
  single.world_size = 1;
  // The backend's own answer first: without a GPU, "no CUDA device" is the thing to fix.
  if (Support own = b.supports(single); !own.ok) return own;
  return comm_support(p, b);
}

Support ulysses_support(const Problem& p, int u, const std::string& strategy) {
  const auto hq = p.shape.heads_q, hkv = p.shape.heads_kv;
  if (hq % u != 0)
    return Support::no(
        fmt::format("{} needs heads_q ({}) divisible by the Ulysses degree ({})", strategy, hq, u));
  if (hkv % u != 0 && u % hkv != 0)
    return Support::no(fmt::format(
        "{} needs heads_kv ({}) divisible by the Ulysses degree ({}) or dividing it (replicated KV heads)",
        strategy, hkv, u));
  return Support::yes();
}

IterationTime CpExecution::timed_run() {
  ComputeClock clock;
  const std::uint64_t b0 = comm_.bytes_sent();
  const auto t0 = std::chrono::steady_clock::now();
  iterate(clock);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  last_bytes_ = comm_.bytes_sent() - b0;
  return {s, clock.seconds, std::max(0.0, s - clock.seconds)};
}

std::vector<Metric> CpExecution::metrics() {
  std::vector<Metric> m;
  m.push_back({"bytes_sent", static_cast<double>(last_bytes_), {}});
  m.push_back({"imbalance", imbalance(rank_areas_), {}});
  std::string areas = "[";
  for (std::size_t i = 0; i < rank_areas_.size(); ++i)
    areas += fmt::format("{}{:.0f}", i ? "," : "", rank_areas_[i]);
  m.push_back({"rank_area", std::numeric_limits<double>::quiet_NaN(), areas + "]", true});
  if (!layout_note_.empty())
    m.push_back({"cp_layout", std::numeric_limits<double>::quiet_NaN(), layout_note_});
  return m;
}

void CpExecution::gather(const float* local, std::int64_t outer, std::int64_t width,
                         const std::vector<Ranges>& ranks, std::vector<float>& global) {
  const std::int64_t S = p_.shape.seqlen_q;
  std::vector<std::int64_t> counts(ranks.size());
  std::int64_t total = 0;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    counts[r] = outer * total_tokens(ranks[r]) * width;
    total += counts[r];
  }
  std::vector<float> all(static_cast<std::size_t>(total));
  comm_.allgatherv(local, counts[comm_.rank()], all.data(), counts);
  global.assign(static_cast<std::size_t>(outer * S * width), 0.0f);
  const float* at = all.data();
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    insert(at, outer, S, width, ranks[r], global.data());
    at += counts[r];
  }
}

void CpExecution::gather_outputs(const std::vector<Ranges>& ranks, const float* o, const float* lse,
                                 const float* dq, const float* dk, const float* dv, Outputs& out) {
  const auto& s = p_.shape;
  if (pass_has_forward(p_.pass)) {
    gather(o, s.batch, s.heads_q * s.head_dim, ranks, out.o);
    gather(lse, s.batch * s.heads_q, 1, ranks, out.lse);
  }
  if (pass_has_backward(p_.pass)) {
    gather(dq, s.batch, s.heads_q * s.head_dim, ranks, out.dq);
    gather(dk, s.batch, s.heads_kv * s.head_dim, ranks, out.dk);
    gather(dv, s.batch, s.heads_kv * s.head_dim, ranks, out.dv);
  }
}

std::unique_ptr<Execution> prepare_agreed(Communicator& comm,
                                          const std::function<std::unique_ptr<CpExecution>()>& make) {
  std::unique_ptr<CpExecution> exec;
  comm::agree(comm, [&] { exec = make(); });
  comm::collective(comm, "CP setup", [&] { exec->setup(); });
  return exec;
}

}  // namespace attnbench::cp
