// The six CP strategies, registered by name: each picks a layout and an execution.
#include <fmt/format.h>

#include "attnbench/registry.hpp"
#include "backends/cp/allgather_execution.hpp"
#include "backends/cp/usp_execution.hpp"

namespace attnbench::cp {

namespace {

// Strategies built on the Ulysses × ring execution differ only in degree, window and layout.
class UspFamily : public Strategy {
 public:
  Support supports(const Problem& p, const Backend& kernel) const override {
    // Bad options are bad input (refused at expansion), whatever the backend.
    if (Support o = options_support(p); !o.ok) return o;
    Support s = common_support(p, kernel);
    if (!s.ok) return s;
    return layout(p);
  }
  // Degrees and windows against the world size and the heads (no kernel involved);
  // options were checked by supports() (invalid: refused at expansion).
  Support layout(const Problem& p) const {
    const UspConfig c = config(p);
    const int P = p.world_size;
    if (P % c.ulysses_degree != 0)
      return Support::no(fmt::format("{}: ulysses_degree {} does not divide the world size {}", c.name,
                                     c.ulysses_degree, P));
    const int slots = P / c.ulysses_degree;
    if (c.window > 0 && slots % c.window != 0)
      return Support::no(
          fmt::format("{}: window {} does not divide the ring size {}", c.name, c.window, slots));
    if (c.ulysses_degree > 1) return ulysses_support(p, c.ulysses_degree, c.name);
    return Support::yes();
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Backend& kernel, const Inputs& in,
                                     Resources& res) override {
    const UspConfig c = config(p);
    const ChunkKernel& k = *chunk_kernel_of(kernel);
    return prepare_agreed(*res.comm, [&] { return make_usp_execution(p, k, in, res, c); });
  }
  virtual UspConfig config(const Problem&) const = 0;
};

class Ring final : public UspFamily {
 public:
  StrategyInfo info() const override {
    return {"ring",
            "P2P ring over contiguous shards; K/V travel, partial outputs merge by LSE; dK/dV ring back",
            {"balance", "chunks_per_rank", "comm"}};
  }
  UspConfig config(const Problem& p) const override {
    return {1, 0, Balance::contiguous, parse_options(p), "ring"};
  }
};

class RingZigzag final : public UspFamily {
 public:
  StrategyInfo info() const override {
    return {"ring_zigzag",
            "ring over 2P chunks, rank r holding chunks r and 2P-1-r (balances causal)",
            {"balance", "chunks_per_rank", "comm"}};
  }
  UspConfig config(const Problem& p) const override {
    return {1, 0, Balance::zigzag, parse_options(p), "ring_zigzag"};
  }
};

class DoubleRing final : public UspFamily {
 public:
  StrategyInfo info() const override {
    return {"double_ring",
            "LoongTrain two-level ring: K/V rotate in inner windows while the outer ring passes blocks "
            "between windows (option window = inner ring size; default 2 when P is even)",
            {"window", "balance", "chunks_per_rank", "comm"}};
  }
  UspConfig config(const Problem& p) const override {
    CpOptions o = parse_options(p);
    const int P = p.world_size;
    const int w = o.window > 0 ? o.window : (P % 2 == 0 ? 2 : P);
    return {1, w, Balance::zigzag, o, "double_ring"};
  }
};

class Ulysses final : public UspFamily {
 public:
  StrategyInfo info() const override {
    return {"ulysses",
            "all-to-all from sequence to head shards, full-sequence attention on H/P heads, all-to-all back",
            {"balance", "chunks_per_rank", "comm"}};
  }
  UspConfig config(const Problem& p) const override {
    return {p.world_size, 0, Balance::contiguous, parse_options(p), "ulysses"};
  }
};

class Usp final : public UspFamily {
 public:
  StrategyInfo info() const override {
    return {"usp",
            "2D: Ulysses inside groups of ulysses_degree ranks x zigzag ring across groups "
            "(default degree: 2 when P is even)",
            {"ulysses_degree", "balance", "chunks_per_rank", "comm"}};
  }
  UspConfig config(const Problem& p) const override {
    CpOptions o = parse_options(p);
    const int P = p.world_size;
    const int u = o.ulysses_degree > 0 ? o.ulysses_degree : (P % 2 == 0 ? 2 : 1);
    return {u, 0, Balance::zigzag, o, "usp"};
  }
};

class AllgatherKv final : public Strategy {
 public:
  StrategyInfo info() const override {
    return {"allgather_kv",
            "all-gather K/V once, local queries against all keys; reduce-scatter dK/dV",
            {"balance", "chunks_per_rank", "comm"}};
  }
  Support supports(const Problem& p, const Backend& kernel) const override {
    if (Support o = options_support(p); !o.ok) return o;
    return common_support(p, kernel);
  }
  std::unique_ptr<Execution> prepare(const Problem& p, const Backend& kernel, const Inputs& in,
                                     Resources& res) override {
    const CpOptions o = parse_options(p);
    const ChunkKernel& k = *chunk_kernel_of(kernel);
    return prepare_agreed(*res.comm, [&] { return make_allgather_execution(p, k, in, res, o); });
  }
};

}  // namespace

std::optional<UspConfig> usp_family_config(const Problem& p) {
  const auto* s = dynamic_cast<const UspFamily*>(Registry::instance().find_strategy(p.strategy));
  if (s == nullptr) return std::nullopt;
  return s->config(p);
}

Support layout_support(const Problem& p) {
  const auto* s = dynamic_cast<const UspFamily*>(Registry::instance().find_strategy(p.strategy));
  return s == nullptr ? Support::yes() : s->layout(p);
}

ATTNBENCH_REGISTER_STRATEGY(Ring);
ATTNBENCH_REGISTER_STRATEGY(RingZigzag);
ATTNBENCH_REGISTER_STRATEGY(AllgatherKv);
ATTNBENCH_REGISTER_STRATEGY(Ulysses);
ATTNBENCH_REGISTER_STRATEGY(Usp);
ATTNBENCH_REGISTER_STRATEGY(DoubleRing);

}  // namespace attnbench::cp
