// The cost of one CP case from the strategies' schedule: per rank and step compute from exact areas and the
// kernel profile, ring steps paced by the slowest rank and hop, collectives by alpha-beta standard costs.
#include "model/cost.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "backends/cp/cp_execution.hpp"
#include "backends/cp/schedule.hpp"
#include "backends/cp/usp_execution.hpp"
#include "model/profile.hpp"
#include "model/slice_area.hpp"

namespace attnbench::model {

namespace {

// Milliseconds of one kernel call of `work` (allowed pairs x batch x heads) in one pass.
struct KernelTime {
  std::optional<ProfileEntry> entry;
  double ms_per_work = 0;  // without a profile: FLOPs at peak x efficiency
  double operator()(double work) const {
    if (work <= 0) return 0;
    if (entry) return entry->a_ms + entry->b_ms_per_gwork * work / 1e9;
    return work * ms_per_work;
  }
};

KernelTime kernel_time(const Machine& m, const std::string& backend, const Problem& p, bool backward) {
  KernelTime k;
  const std::string pass = backward ? "bwd" : "fwd";
  const std::string dtype(to_string(p.dtype));
  k.entry = find_profile(m.profile, backend, p.shape.head_dim, dtype, pass);
  k.ms_per_work =
      flops_per_work(p.shape.head_dim, pass) / (m.peak_tflops * 1e12 * m.attention_efficiency) * 1e3;
  return k;
}

// The link between two global ranks, and the one a collective over [first, first + n) is paced by.
const Link& hop(const Machine& m, int a, int b) {
  return a / m.gpus_per_node == b / m.gpus_per_node ? m.intra : m.inter;
}
const Link& group_link(const Machine& m, int first, int n) { return hop(m, first, first + n - 1); }

// Standard collective cost: `messages` rounds of alpha plus the bytes this rank sends at beta.
double collective_ms(const Link& l, int messages, double bytes) {
  if (bytes <= 0) return 0;
  return (messages * l.alpha_us * 1e-6 + bytes / (l.gbps * 1e9)) * 1e3;
}

struct PassCost {
  double time_ms = 0;
  std::vector<double> compute, comm;  // [rank] ms
};

// [slot][step]: allowed pairs ring slot `slot` attends at each step (the owners of cp::ring_owner,
// as cp::ring_schedule lists them), computed once per case, slots in parallel.
std::vector<std::int64_t> slot_step_areas(const cp::UspPlan& plan, const PartAreas& areas) {
  const int slots = plan.slots, W = plan.window, G = slots / W;
  std::vector<std::int64_t> a(static_cast<std::size_t>(slots) * slots);
#pragma omp parallel for schedule(dynamic, 8)
  for (int sl = 0; sl < slots; ++sl)
    for (int k = 0; k < slots; ++k)
      a[static_cast<std::size_t>(sl) * slots + k] = areas(sl, cp::ring_owner(sl, W, G, k / W, k % W));
  return a;
}

PassCost usp_pass(const Problem& p, const cp::UspPlan& plan, const std::vector<std::int64_t>& areas,
                  const KernelTime& kt, const Machine& m, bool backward, std::uint64_t elem, CaseModel& out) {
  const int P = plan.world, u = plan.ulysses, slots = plan.slots, W = plan.window, G = slots / W;
  const auto& s = p.shape;
  const auto qh = cp::ulysses_q_heads(s.heads_q, u);
  PassCost c;
  c.compute.assign(static_cast<std::size_t>(P), 0);
  c.comm.assign(static_cast<std::size_t>(P), 0);
  const int steps = slots;
  // [slot][step] compute ms (every member of a slot does the same work on its heads).
  std::vector<double> comp(static_cast<std::size_t>(slots) * steps);
  std::vector<double> step_inner(static_cast<std::size_t>(steps), 0),
      outer_ms(static_cast<std::size_t>(G), 0);
  double before = 0, after = 0;
  const int a2a_before = backward ? 1 : 3, a2a_after = backward ? 3 : 2;  // tensors moved each way
  for (int r = 0; r < P; ++r) {
    const int slot = r / u, member = r % u;
    const cp::RankSchedule rs =
        cp::usp_schedule(plan, r, s.batch, s.heads_q, s.heads_kv, s.head_dim, backward, elem);
    out.rank_bytes[r] += rs.bytes();
    const double work_per_area = static_cast<double>(s.batch * qh[member].count);
    std::vector<std::int64_t>* keep = out.rank_step_areas.empty() ? nullptr : &out.rank_step_areas[r];
    // This rank's neighbours on the inner and the outer ring: fixed for the pass.
    const int inner = slot % W, outer = slot / W;
    const Link& inner_link = hop(m, r, (outer * W + (inner + 1) % W) * u + member);
    const Link& outer_link = hop(m, r, (((outer + 1) % G) * W + inner) * u + member);
    for (int k = 0; k < steps; ++k) {
      const auto& st = rs.steps[k];
      const std::size_t at = static_cast<std::size_t>(slot) * steps + k;
      double& cm = comp[at];
      if (member == 0) cm = kt(static_cast<double>(areas[at]) * work_per_area);
      if (keep) keep->push_back(areas[at]);
      c.compute[r] += cm;
      const double inner_ms = st.bytes > st.outer_bytes
                                  ? inner_link.seconds(static_cast<double>(st.bytes - st.outer_bytes)) * 1e3
                                  : 0;
      const double o_ms =
          st.outer_bytes > 0 ? outer_link.seconds(static_cast<double>(st.outer_bytes)) * 1e3 : 0;
      c.comm[r] += inner_ms + o_ms;
      step_inner[k] = std::max({step_inner[k], cm, inner_ms});
      outer_ms[k / W] = std::max(outer_ms[k / W], o_ms);
    }
    if (u > 1) {
      const Link& l = group_link(m, slot * u, u);
      const double b = collective_ms(l, a2a_before * (u - 1), static_cast<double>(rs.bytes_before));
      const double a = collective_ms(l, a2a_after * (u - 1), static_cast<double>(rs.bytes_after));
      c.comm[r] += a + b;
      before = std::max(before, b);
      after = std::max(after, a);
    }
  }
  // A window's inner steps overlap the outer transfer posted with them (LoongTrain's double ring).
  double ring = 0;
  for (int o = 0; o < G; ++o) {
    double inner = 0;
    for (int t = 0; t < W; ++t) inner += step_inner[static_cast<std::size_t>(o) * W + t];
    ring += std::max(inner, outer_ms[o]);
  }
  c.time_ms = before + ring + after;
  return c;
}

PassCost allgather_pass(const Problem& p, const std::vector<cp::Ranges>& ranks, const PartAreas& areas,
                        const KernelTime& kt, const Machine& m, bool backward, std::uint64_t elem,
                        CaseModel& out) {
  const int P = static_cast<int>(ranks.size());
  const auto& s = p.shape;
  PassCost c;
  c.compute.assign(static_cast<std::size_t>(P), 0);
  c.comm.assign(static_cast<std::size_t>(P), 0);
  const Link& l = group_link(m, 0, P);
  double slowest = 0, collective = 0;
  for (int r = 0; r < P; ++r) {
    const cp::RankSchedule rs =
        cp::allgather_schedule(ranks, r, s.batch, s.heads_kv, s.head_dim, backward, elem);
    out.rank_bytes[r] += rs.bytes();
    double own = 0;
    for (std::size_t k = 0; k < rs.steps.size(); ++k) {
      const std::int64_t a = areas(r, rs.steps[k].owner);
      if (!out.rank_step_areas.empty()) out.rank_step_areas[r].push_back(a);
      const double ms = kt(static_cast<double>(a) * static_cast<double>(s.batch * s.heads_q));
      c.compute[r] += ms;
      if (k == 0) own = ms;
    }
    // Forward: K and V gathered while the own block is computed; backward: dK/dV reduce-scattered after.
    const double coll = backward ? collective_ms(l, P - 1, static_cast<double>(rs.bytes_after))
                                 : collective_ms(l, 2 * (P - 1), static_cast<double>(rs.bytes_before));
    c.comm[r] = coll;
    collective = std::max(collective, coll);
    slowest = std::max(slowest, backward ? c.compute[r] : c.compute[r] - own + std::max(own, coll));
  }
  c.time_ms = backward ? slowest + collective : slowest;
  return c;
}

}  // namespace

std::uint64_t CaseModel::max_bytes() const {
  return rank_bytes.empty() ? 0 : *std::max_element(rank_bytes.begin(), rank_bytes.end());
}

CaseModel model_case(const Problem& p, const std::string& backend, const Machine& m, const ModelOptions& o) {
  CaseModel out;
  const int P = p.world_size;
  const auto& s = p.shape;
  auto no = [&](std::string why) {
    out.supported = false;
    out.reason = std::move(why);
    return out;
  };
  // The kernel-independent part of cp::common_support, then the strategy's own layout checks.
  if (s.seqlen_q != s.seqlen_k) return no("CP strategies shard one sequence: seqlen_q must equal seqlen_k");
  if (P < 1) return no("world size must be at least 1");
  if (s.seqlen_q < P) return no(fmt::format("seqlen {} is shorter than the world size {}", s.seqlen_q, P));
  const Support layout = cp::layout_support(p);
  if (!layout.ok) return no(layout.reason);
  const cp::CpOptions opt = cp::parse_options(p);
  const std::uint64_t elem = o.elem_bytes > 0 ? o.elem_bytes : dtype_size(p.dtype);
  const SliceAreas areas(*p.mask);
  out.rank_bytes.assign(static_cast<std::size_t>(P), 0);
  out.rank_area.assign(static_cast<std::size_t>(P), 0);
  if (o.keep_steps) out.rank_step_areas.resize(static_cast<std::size_t>(P));
  std::vector<bool> passes;
  if (p.pass != Pass::bwd) passes.push_back(false);
  if (p.pass != Pass::fwd) passes.push_back(true);
  std::vector<double> compute(static_cast<std::size_t>(P), 0), comm(static_cast<std::size_t>(P), 0);

  const auto cfg = cp::usp_family_config(p);
  std::vector<cp::Ranges> work_ranges;  // the query rows each rank's area counts
  int heads_share = 1;
  std::optional<cp::UspPlan> plan;
  std::vector<cp::Ranges> ag_ranks;
  if (cfg) {
    const cp::Balance balance = cfg->options.balance_area ? cp::Balance::area : cfg->token_balance;
    plan = cp::plan_usp(*p.mask, s.seqlen_q, P, cfg->ulysses_degree, cfg->window, balance,
                        cfg->options.chunks_per_rank);
    out.layout_note = plan->layout_note;
    heads_share = cfg->ulysses_degree;
    for (int r = 0; r < P; ++r) work_ranges.push_back(plan->slot_ranges[r / heads_share]);
  } else if (p.strategy == "allgather_kv") {
    ag_ranks =
        cp::assign(*p.mask, s.seqlen_q, P, opt.balance_area ? cp::Balance::area : cp::Balance::contiguous,
                   opt.chunks_per_rank);
    out.layout_note = opt.balance_area ? fmt::format("area({}/rank)", opt.chunks_per_rank) : "contiguous";
    work_ranges = ag_ranks;
  } else {
    return no(
        fmt::format("strategy '{}' has no cost model (modelled: ring, ring_zigzag, allgather_kv, ulysses, "
                    "usp, double_ring)",
                    p.strategy));
  }
  const PartAreas part_areas(areas, plan ? plan->slot_ranges : ag_ranks);
  const std::vector<std::int64_t> ring_areas =
      plan ? slot_step_areas(*plan, part_areas) : std::vector<std::int64_t>{};
  for (bool backward : passes) {
    const KernelTime kt = kernel_time(m, backend, p, backward);
    out.profiled = kt.entry.has_value();
    const PassCost c = plan ? usp_pass(p, *plan, ring_areas, kt, m, backward, elem, out)
                            : allgather_pass(p, ag_ranks, part_areas, kt, m, backward, elem, out);
    out.time_ms += c.time_ms;
    for (int r = 0; r < P; ++r) compute[r] += c.compute[r], comm[r] += c.comm[r];
  }
  // Per-rank work as the executions' `rank_area` metric counts it (its share of the heads).
  std::vector<double> loads;
  std::vector<std::int64_t> slot_area(static_cast<std::size_t>(P), -1);
  for (int r = 0; r < P; ++r) {
    const int key = plan ? r / heads_share : r;
    if (slot_area[key] < 0) {
      std::int64_t a = 0;
      for (const auto& q : work_ranges[r]) a += areas.area_in(q.begin, q.size(), 0, s.seqlen_k);
      slot_area[key] = a;
    }
    out.rank_area[r] = static_cast<double>(slot_area[key]) / heads_share;
  }
  out.imbalance = cp::imbalance(out.rank_area);
  out.compute_ms = *std::max_element(compute.begin(), compute.end());
  out.comm_ms = *std::max_element(comm.begin(), comm.end());
  out.exposed_comm_ms = std::max(0.0, out.time_ms - out.compute_ms);
  out.tflops_per_gpu = out.time_ms > 0 ? pass_flops(p) / (out.time_ms * 1e-3) / P / 1e12 : 0;
  return out;
}

}  // namespace attnbench::model
