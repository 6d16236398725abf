// cpu.flash driver: runtime ISA dispatch, tile plans in row and column order, mask row ranges.
#include "flash_driver.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>

#include "attnbench/types.hpp"

namespace attnbench::cpu::flash {

namespace {

bool cpu_can_run(std::string_view isa) {
  if (isa == "generic") return true;
#if defined(ATTNBENCH_FLASH_X86)
  __builtin_cpu_init();
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx512") return __builtin_cpu_supports("avx512f");
#endif
  return false;
}

const KernelSet* kernels_for(std::string_view isa) {
  if (isa == "generic") return &kernels_generic();
#if defined(ATTNBENCH_FLASH_X86)
  if (isa == "avx2") return &kernels_avx2();
  if (isa == "avx512") return &kernels_avx512();
#endif
  return nullptr;
}

// Heavy-first order of tiles (most non-empty partners first, ties by index), so
// dynamic scheduling does not end on one long query row of a causal mask.
std::vector<std::int32_t> heavy_first(const std::vector<std::int64_t>& begin) {
  std::vector<std::int32_t> order(begin.size() - 1);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return begin[a + 1] - begin[a] > begin[b + 1] - begin[b];
  });
  return order;
}

RowRanges fetch_ranges(const void* context, std::int64_t q, std::int64_t nq) {
  const Mask& mask = *static_cast<const Mask*>(context);
  thread_local std::vector<std::int64_t> begin, pairs;
  thread_local std::vector<std::pair<std::int64_t, std::int64_t>> row;
  begin.assign(1, 0);
  pairs.clear();
  for (std::int64_t r = 0; r < nq; ++r) {
    mask.row_ranges(q + r, row);
    for (auto [lo, hi] : row) {
      pairs.push_back(lo);
      pairs.push_back(hi);
    }
    begin.push_back(static_cast<std::int64_t>(pairs.size() / 2));
  }
  return {begin.data(), pairs.data()};
}

struct AlignedFloats {
  explicit AlignedFloats(std::size_t n)
      : data(static_cast<float*>(::operator new[]((n ? n : 1) * sizeof(float), std::align_val_t{64}))) {}
  ~AlignedFloats() { ::operator delete[](data, std::align_val_t{64}); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* data;
};

}  // namespace

std::vector<std::string_view> available_isas() {
  std::vector<std::string_view> out;
  for (std::string_view isa : {"avx512", "avx2", "generic"})
    if (cpu_can_run(isa) && kernels_for(isa) != nullptr) out.push_back(isa);
  return out;
}

const KernelSet& kernels_by_name(std::string_view isa) {
  const KernelSet* set = cpu_can_run(isa) ? kernels_for(isa) : nullptr;
  if (set == nullptr)
    throw InputError("cpu.flash: ISA '" + std::string(isa) +
                     "' is not available on this CPU/build (ATTNBENCH_CPU_ISA accepts avx512, "
                     "avx2, generic)");
  return *set;
}

const KernelSet& head_mask_kernels(const KernelSet& base) {
#if defined(ATTNBENCH_FLASH_X86)
  if (std::string_view(base.isa) == "avx512") return kernels_avx512_t64();
#endif
  return base;
}

const KernelSet& select_kernels() {
  static const KernelSet* chosen = [] {
    if (const char* forced = std::getenv("ATTNBENCH_CPU_ISA"); forced && *forced)
      return &kernels_by_name(forced);
    return &kernels_by_name(available_isas().front());
  }();
  return *chosen;
}

bool use_decode_path(const Geometry& g) {
  static const bool enabled = [] {
    const char* v = std::getenv("ATTNBENCH_CPU_DECODE");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return enabled && g.seqlen_q <= kDecodeMaxSq;
}

std::size_t forward_workspace(const KernelSet& kernels, const Geometry& g, int threads) {
  return use_decode_path(g) ? kernels.decode_workspace(g, threads) : kernels.forward_workspace(g, threads);
}

int default_threads() { return std::max(1, omp_get_max_threads()); }

TileMap TilePlan::view() const {
  TileMap v{};
  v.bq = map.bq;
  v.bk = map.bk;
  v.q_tiles = map.q_tiles;
  v.k_tiles = map.k_tiles;
  v.row_begin = map.row_begin.data();
  v.cols = map.cols.data();
  v.row_full = map.full.data();
  v.col_begin = col_begin.data();
  v.rows = rows.data();
  v.col_full = col_full.data();
  v.q_order = q_order.data();
  v.k_order = k_order.data();
  return v;
}

TilePlan make_tile_plan(const Mask& mask, const KernelSet& kernels, std::int64_t q0, std::int64_t nq,
                        std::int64_t k0, std::int64_t nk) {
  TilePlan plan;
  plan.map = mask.block_map(kernels.tile_q, kernels.tile_k, q0, nq, k0, nk);
  const BlockMap& m = plan.map;
  // Transpose the compressed rows into compressed columns, query tiles ascending.
  plan.col_begin.assign(static_cast<std::size_t>(m.k_tiles) + 1, 0);
  for (auto c : m.cols) ++plan.col_begin[static_cast<std::size_t>(c) + 1];
  std::partial_sum(plan.col_begin.begin(), plan.col_begin.end(), plan.col_begin.begin());
  plan.rows.resize(m.cols.size());
  plan.col_full.resize(m.cols.size());
  std::vector<std::int64_t> fill(plan.col_begin.begin(), plan.col_begin.end() - 1);
  for (std::int64_t qt = 0; qt < m.q_tiles; ++qt) {
    for (auto i = m.row_begin[qt]; i < m.row_begin[qt + 1]; ++i) {
      const auto at = fill[m.cols[i]]++;
      plan.rows[at] = static_cast<std::int32_t>(qt);
      plan.col_full[at] = m.full[i];
    }
  }
  plan.q_order = heavy_first(m.row_begin);
  plan.k_order = heavy_first(plan.col_begin);
  return plan;
}

MaskSource mask_source(const Mask& mask, std::int64_t q0, std::int64_t k0) {
  MaskSource s{};
  s.context = &mask;
  s.fetch = &fetch_ranges;
  s.q_origin = q0;
  s.k_origin = k0;
  return s;
}

HeadPlans make_head_plans(const Problem& p, const KernelSet& kernels) {
  HeadPlans h;
  std::unordered_map<const Mask*, std::int32_t> seen;
  h.index.reserve(p.head_masks.size());
  for (const auto& m : p.head_masks) {
    auto [it, added] = seen.try_emplace(m.get(), static_cast<std::int32_t>(h.plans.size()));
    if (added) {
      h.plans.push_back(make_tile_plan(*m, kernels, 0, p.shape.seqlen_q, 0, p.shape.seqlen_k));
      h.sources.push_back(mask_source(*m, 0, 0));
    }
    h.index.push_back(it->second);
  }
  // Views last: the plans vector no longer moves.
  for (const auto& plan : h.plans) h.maps.push_back(plan.view());
  return h;
}

BiasTables make_bias_tables(const Problem& p) {
  BiasTables t;
  if (!p.bias) return t;
  for (double x : p.bias->slopes()) t.slopes.push_back(static_cast<float>(x));
  for (double x : p.bias->table()) t.table.push_back(static_cast<float>(x));
  t.view.kind = p.bias->kind() == Bias::Kind::alibi ? 1 : 2;
  t.view.slopes = t.slopes.data();
  t.view.table = t.table.data();
  t.view.max_distance = p.bias->max_distance();
  t.view.offset = p.bias->offset();
  return t;
}

Geometry geometry_of(const Problem& p) {
  Geometry g{};
  g.batch = p.shape.batch;
  g.seqlen_q = p.shape.seqlen_q;
  g.seqlen_k = p.shape.seqlen_k;
  g.heads_q = p.shape.heads_q;
  g.heads_kv = p.shape.heads_kv;
  g.head_dim = p.shape.head_dim;
  g.softmax_scale = p.softmax_scale;
  g.heads_v = p.shape.value_heads();
  g.head_dim_v = p.shape.value_dim();
  return g;
}

Geometry geometry_of(const ChunkTask& t) {
  Geometry g{};
  g.batch = t.batch;
  g.seqlen_q = t.nq;
  g.seqlen_k = t.nk;
  g.heads_q = t.heads_q;
  g.heads_kv = t.heads_kv;
  g.head_dim = t.head_dim;
  g.softmax_scale = t.softmax_scale;
  g.heads_v = t.value_heads();
  g.head_dim_v = t.value_dim();
  return g;
}

namespace {

// The fields ForwardArgs and BackwardArgs share: where the problem is, its mask and the inputs.
template <class Args>
Args kernel_args(const TilePlan& plan, const Mask& mask, const Geometry& g, std::int64_t q0, std::int64_t k0,
                 const float* q, const float* k, const float* v, float* workspace, int threads,
                 const HeadPlans* heads, const ScoreBias* bias) {
  Args a{};
  a.geometry = g;
  a.map = plan.view();
  a.mask = mask_source(mask, q0, k0);
  if (heads != nullptr) a.heads = heads->view();
  if (bias != nullptr) a.bias = *bias;
  a.q = q;
  a.k = k;
  a.v = v;
  a.workspace = workspace;
  a.threads = threads;
  return a;
}

}  // namespace

void run_forward(const KernelSet& kernels, const TilePlan& plan, const Mask& mask, const Geometry& g,
                 std::int64_t q0, std::int64_t k0, const float* q, const float* k, const float* v, float* o,
                 float* lse, float* workspace, int threads, const HeadPlans* heads, const ScoreBias* bias) {
  auto a = kernel_args<ForwardArgs>(plan, mask, g, q0, k0, q, k, v, workspace, threads, heads, bias);
  a.o = o;
  a.lse = lse;
  if (use_decode_path(g))
    kernels.decode_forward(a);
  else
    kernels.forward(a);
}

void run_backward(const KernelSet& kernels, const TilePlan& plan, const Mask& mask, const Geometry& g,
                  std::int64_t q0, std::int64_t k0, const float* q, const float* k, const float* v,
                  const float* o, const float* lse, const float* dout, float* dq, float* dk, float* dv,
                  float* workspace, int threads, const HeadPlans* heads, const ScoreBias* bias) {
  auto a = kernel_args<BackwardArgs>(plan, mask, g, q0, k0, q, k, v, workspace, threads, heads, bias);
  a.o = o;
  a.lse = lse;
  a.dout = dout;
  a.dq = dq;
  a.dk = dk;
  a.dv = dv;
  kernels.backward(a);
}

void run_forward(const KernelSet& kernels, const Mask& mask, const Geometry& g, std::int64_t q0,
                 std::int64_t k0, const float* q, const float* k, const float* v, float* o, float* lse,
                 int threads, const HeadPlans* heads, const ScoreBias* bias) {
  if (threads <= 0) threads = default_threads();
  const TilePlan own =
      heads != nullptr ? TilePlan{} : make_tile_plan(mask, kernels, q0, g.seqlen_q, k0, g.seqlen_k);
  const TilePlan& plan = heads != nullptr ? heads->plans.front() : own;  // per-(b, h): the first plan's order
  AlignedFloats workspace(forward_workspace(kernels, g, threads));
  run_forward(kernels, plan, mask, g, q0, k0, q, k, v, o, lse, workspace.data, threads, heads, bias);
}

void run_backward(const KernelSet& kernels, const Mask& mask, const Geometry& g, std::int64_t q0,
                  std::int64_t k0, const float* q, const float* k, const float* v, const float* o,
                  const float* lse, const float* dout, float* dq, float* dk, float* dv, int threads,
                  const HeadPlans* heads, const ScoreBias* bias) {
  if (threads <= 0) threads = default_threads();
  const TilePlan own =
      heads != nullptr ? TilePlan{} : make_tile_plan(mask, kernels, q0, g.seqlen_q, k0, g.seqlen_k);
  const TilePlan& plan = heads != nullptr ? heads->plans.front() : own;  // per-(b, h): the first plan's order
  AlignedFloats workspace(kernels.backward_workspace(g, threads));
  run_backward(kernels, plan, mask, g, q0, k0, q, k, v, o, lse, dout, dq, dk, dv, workspace.data, threads,
               heads, bias);
}

}  // namespace attnbench::cpu::flash
