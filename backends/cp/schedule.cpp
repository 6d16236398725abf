// The CP schedule as pure functions: Ulysses head spans and all-to-all counts, ring owners and bytes per
// step.
#include "backends/cp/schedule.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace attnbench::cp {

std::vector<HeadSpan> ulysses_q_heads(std::int64_t hq, int u) {
  std::vector<HeadSpan> out;
  for (int m = 0; m < u; ++m) out.push_back({m * (hq / u), hq / u});
  return out;
}

std::vector<HeadSpan> ulysses_kv_heads(std::int64_t hkv, int u) {
  std::vector<HeadSpan> out;
  for (int m = 0; m < u; ++m) {
    if (hkv % u == 0)
      out.push_back({m * (hkv / u), hkv / u});
    else  // u is a multiple of hkv: KV heads are replicated across members
      out.push_back({m / (u / hkv), 1});
  }
  return out;
}

HeadCounts ulysses_counts(const std::vector<HeadSpan>& spans, std::int64_t width, std::int64_t batch,
                          const std::vector<Ranges>& rank_ranges, int slot, int member, int u) {
  HeadCounts h;
  const std::int64_t n_local = total_tokens(rank_ranges[static_cast<std::size_t>(slot * u + member)]);
  for (int j = 0; j < u; ++j) {
    h.seq.push_back(batch * n_local * spans[j].count * width);
    h.head.push_back(batch * total_tokens(rank_ranges[static_cast<std::size_t>(slot * u + j)]) *
                     spans[member].count * width);
  }
  return h;
}

UspPlan plan_usp(const Mask& mask, std::int64_t S, int P, int u, int window, Balance balance,
                 int chunks_per_slot) {
  UspPlan p;
  p.world = P;
  p.ulysses = u;
  p.slots = P / u;
  p.window = window > 0 ? window : p.slots;
  p.balance = balance;
  p.slot_ranges = assign(mask, S, p.slots, balance, chunks_per_slot);
  p.layout_note = balance == Balance::area     ? fmt::format("area({}/slot)", chunks_per_slot)
                  : balance == Balance::zigzag ? "zigzag"
                                               : "contiguous";
  if (u > 1) p.layout_note += fmt::format(" ulysses={}", u);
  if (p.window < p.slots) p.layout_note += fmt::format(" window={}", p.window);
  p.rank_ranges.resize(static_cast<std::size_t>(P));
  for (int sl = 0; sl < p.slots; ++sl) {
    auto pieces = split_members(p.slot_ranges[sl], u);
    for (int m = 0; m < u; ++m) p.rank_ranges[sl * u + m] = pieces[m];
  }
  return p;
}

int ring_owner(int me, int W, int G, int step, int t) {
  const int inner = me % W, outer = me / W;
  const int owner_outer = (outer - step + G) % G;
  return owner_outer * W + (inner - t + W) % W;
}

std::uint64_t RankSchedule::bytes() const {
  std::uint64_t b = bytes_before + bytes_after;
  for (const auto& s : steps) b += s.bytes;
  return b;
}

RankSchedule ring_schedule(int me, int W, const std::vector<std::uint64_t>& block, bool backward) {
  const int P = static_cast<int>(block.size());
  if (W < 1 || P % W != 0) throw std::logic_error("ring_schedule: the window must divide the ring size");
  const int G = P / W, inner = me % W, outer = me / W;
  RankSchedule r;
  // A send to oneself (a ring of one) never leaves the rank: it is not counted.
  const bool inner_moves = W > 1, outer_moves = G > 1;
  for (int step = 0; step < G; ++step) {
    const int owner_outer = (outer - step + G) % G;
    const std::uint64_t outer_block = block[static_cast<std::size_t>(owner_outer * W + inner)];
    for (int t = 0; t < W; ++t) {
      Step s;
      s.owner = ring_owner(me, W, G, step, t);
      // K/V: the outer block leaves at the start of each outer step but the last; the
      // inner block at every inner step but the last.
      if (t == 0 && step < G - 1 && outer_moves) s.outer_bytes += outer_block;
      if (t < W - 1 && inner_moves) s.bytes += block[static_cast<std::size_t>(s.owner)];
      if (backward) {
        // dK/dV accumulators: passed on after every inner step, and to the next window
        // after the last one (the final move brings them home).
        if (inner_moves) s.bytes += block[static_cast<std::size_t>(s.owner)];
        if (t == W - 1 && outer_moves) s.outer_bytes += outer_block;
      }
      s.bytes += s.outer_bytes;
      r.steps.push_back(s);
    }
  }
  return r;
}

namespace {

std::uint64_t others(const std::vector<std::int64_t>& counts, int me, std::uint64_t elem) {
  std::uint64_t b = 0;
  for (std::size_t j = 0; j < counts.size(); ++j)
    if (static_cast<int>(j) != me) b += static_cast<std::uint64_t>(counts[j]) * elem;
  return b;
}

}  // namespace

RankSchedule usp_schedule(const UspPlan& plan, int rank, std::int64_t B, std::int64_t Hq, std::int64_t Hkv,
                          std::int64_t D, bool backward, std::uint64_t elem) {
  const int u = plan.ulysses, slot = rank / u, member = rank % u;
  const auto qh = ulysses_q_heads(Hq, u), kvh = ulysses_kv_heads(Hkv, u);
  const std::int64_t hkv = kvh[member].count;
  std::vector<std::uint64_t> block;
  for (const auto& r : plan.slot_ranges)
    block.push_back(static_cast<std::uint64_t>(2 * B * total_tokens(r) * hkv * D) * elem);
  RankSchedule s = ring_schedule(slot, plan.window, block, backward);
  if (u > 1) {
    const auto q = ulysses_counts(qh, D, B, plan.rank_ranges, slot, member, u);
    const auto kv = ulysses_counts(kvh, D, B, plan.rank_ranges, slot, member, u);
    const auto lse = ulysses_counts(qh, 1, B, plan.rank_ranges, slot, member, u);
    if (!backward) {  // Q, K, V to heads; O and LSE back
      s.bytes_before = others(q.seq, member, elem) + 2 * others(kv.seq, member, elem);
      s.bytes_after = others(q.head, member, elem) + others(lse.head, member, elem);
    } else {  // dO to heads; dQ, dK, dV back
      s.bytes_before = others(q.seq, member, elem);
      s.bytes_after = others(q.head, member, elem) + 2 * others(kv.head, member, elem);
    }
  }
  return s;
}

RankSchedule allgather_schedule(const std::vector<Ranges>& ranks, int me, std::int64_t B, std::int64_t Hkv,
                                std::int64_t D, bool backward, std::uint64_t elem) {
  const int P = static_cast<int>(ranks.size());
  std::vector<std::int64_t> kv(static_cast<std::size_t>(P));
  for (int r = 0; r < P; ++r) kv[r] = B * total_tokens(ranks[r]) * Hkv * D;
  RankSchedule s;
  if (!backward) {
    // K and V gathered (overlapped with the own block, step 0), then the others in rank order.
    s.bytes_before = 2 * static_cast<std::uint64_t>(kv[me]) * elem * static_cast<std::uint64_t>(P - 1);
    s.steps.push_back({me, 0});
    for (int r = 0; r < P; ++r)
      if (r != me) s.steps.push_back({r, 0});
  } else {
    for (int r = 0; r < P; ++r) s.steps.push_back({r, 0});
    for (int r = 0; r < P; ++r)
      if (r != me) s.bytes_after += 2 * static_cast<std::uint64_t>(kv[r]) * elem;
  }
  return s;
}

}  // namespace attnbench::cp
