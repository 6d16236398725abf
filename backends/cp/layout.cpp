// Layout arithmetic: contiguous, zigzag and area-balanced assignment, member pieces, row copies.
#include "backends/cp/layout.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace attnbench::cp {

std::int64_t total_tokens(const Ranges& r) {
  std::int64_t n = 0;
  for (const auto& x : r) n += x.size();
  return n;
}

Ranges normalized(Ranges r) {
  std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  Ranges out;
  for (const auto& x : r) {
    if (x.size() <= 0) continue;
    if (!out.empty() && out.back().end == x.begin)
      out.back().end = x.end;
    else
      out.push_back(x);
  }
  return out;
}

std::int64_t rows_area(const Mask& m, const Ranges& rows) {
  std::int64_t a = 0;
  for (const auto& r : rows) a += m.area_in(r.begin, r.size(), 0, m.seqlen_k());
  return a;
}

std::vector<int> greedy_equal_count(const std::vector<std::int64_t>& costs, int parts, int per_part) {
  if (static_cast<std::int64_t>(costs.size()) != static_cast<std::int64_t>(parts) * per_part)
    throw std::logic_error("greedy_equal_count: items != parts * per_part");
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by index so every rank computes the same assignment.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<std::int64_t> load(static_cast<std::size_t>(parts), 0);
  std::vector<int> count(static_cast<std::size_t>(parts), 0);
  std::vector<int> bin(costs.size(), -1);
  for (std::size_t item : order) {
    int best = -1;
    for (int p = 0; p < parts; ++p) {
      if (count[p] >= per_part) continue;
      if (best < 0 || load[p] < load[best]) best = p;
    }
    bin[item] = best;
    load[best] += costs[item];
    ++count[best];
  }
  return bin;
}

std::vector<Ranges> assign(const Mask& mask, std::int64_t S, int parts, Balance balance,
                           int chunks_per_part) {
  std::vector<Ranges> out(static_cast<std::size_t>(parts));
  auto chunk = [S](std::int64_t i, std::int64_t n) { return Range{i * S / n, (i + 1) * S / n}; };
  switch (balance) {
    case Balance::contiguous:
      for (int p = 0; p < parts; ++p) out[p] = {chunk(p, parts)};
      break;
    case Balance::zigzag:
      for (int p = 0; p < parts; ++p) out[p] = {chunk(p, 2 * parts), chunk(2 * parts - 1 - p, 2 * parts)};
      break;
    case Balance::area: {
      const std::int64_t n = static_cast<std::int64_t>(parts) * chunks_per_part;
      std::vector<std::int64_t> cost(static_cast<std::size_t>(n));
      for (std::int64_t c = 0; c < n; ++c) cost[c] = rows_area(mask, {chunk(c, n)});
      const auto bin = greedy_equal_count(cost, parts, chunks_per_part);
      for (std::int64_t c = 0; c < n; ++c) out[bin[c]].push_back(chunk(c, n));
      break;
    }
  }
  for (auto& r : out) r = normalized(std::move(r));
  return out;
}

double imbalance(const std::vector<double>& loads) {
  if (loads.empty()) return 1.0;
  double mx = 0, sum = 0;
  for (double l : loads) {
    mx = std::max(mx, l);
    sum += l;
  }
  if (sum <= 0) return 1.0;
  return mx / (sum / static_cast<double>(loads.size()));
}

std::vector<Ranges> split_members(const Ranges& group, int members) {
  std::vector<Ranges> out(static_cast<std::size_t>(members));
  for (const auto& r : group)
    for (int m = 0; m < members; ++m) {
      const Range piece{r.begin + r.size() * m / members, r.begin + r.size() * (m + 1) / members};
      if (piece.size() > 0) out[m].push_back(piece);
    }
  return out;
}

void copy_rows(const float* src, std::int64_t outer, std::int64_t n_src, std::int64_t src_off, float* dst,
               std::int64_t n_dst, std::int64_t dst_off, std::int64_t n, std::int64_t width, bool add) {
  const std::int64_t len = n * width;
  for (std::int64_t o = 0; o < outer; ++o) {
    const float* s = src + (o * n_src + src_off) * width;
    float* d = dst + (o * n_dst + dst_off) * width;
    if (add)
      for (std::int64_t i = 0; i < len; ++i) d[i] += s[i];
    else
      std::copy(s, s + len, d);
  }
}

void extract(const float* global, std::int64_t outer, std::int64_t S, std::int64_t width,
             const Ranges& ranges, float* local) {
  for (const auto& r : ranges) {
    copy_rows(global, outer, S, r.begin, local, r.size(), 0, r.size(), width);
    local += outer * r.size() * width;
  }
}

void insert(const float* local, std::int64_t outer, std::int64_t S, std::int64_t width, const Ranges& ranges,
            float* global) {
  for (const auto& r : ranges) {
    copy_rows(local, outer, r.size(), 0, global, S, r.begin, r.size(), width);
    local += outer * r.size() * width;
  }
}

}  // namespace attnbench::cp
