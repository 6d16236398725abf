// The Mask class: row ranges, exact area, tile fills, dense form and block maps, all derived from slices.
#include "attnbench/mask.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace attnbench {

namespace {

// sum_{i=0}^{n-1} clamp(i + b, 0, m), in O(1).
std::int64_t sum_clamp_rising(std::int64_t n, std::int64_t b, std::int64_t m) {
  if (n <= 0 || m <= 0) return 0;
  std::int64_t total = 0;
  // Rows where 0 < i + b < m contribute i + b.
  std::int64_t lo = std::max<std::int64_t>(0, 1 - b);
  std::int64_t hi = std::min<std::int64_t>(n - 1, m - b - 1);
  if (lo <= hi) total += (hi - lo + 1) * (lo + b + hi + b) / 2;
  // Rows where i + b >= m contribute m.
  std::int64_t sat = std::max<std::int64_t>(0, m - b);
  if (sat < n) total += (n - sat) * m;
  return total;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> Slice::row_range(std::int64_t q) const {
  if (q < q_begin || q >= q_end) return {0, 0};
  const std::int64_t i = q - q_begin;
  const std::int64_t nq = q_end - q_begin, nk = k_end - k_begin;
  std::int64_t lo = k_begin, hi = k_end;
  if (type == SliceType::causal || type == SliceType::bicausal)
    hi = std::min(hi, k_begin + i + (nk - nq) + 1);
  if (type == SliceType::inv_causal || type == SliceType::bicausal) lo = std::max(lo, k_begin + i);
  if (hi < lo) hi = lo;
  return {lo, hi};
}

std::int64_t Slice::area() const {
  const std::int64_t nq = q_end - q_begin, nk = k_end - k_begin;
  if (nq <= 0 || nk <= 0) return 0;
  switch (type) {
    case SliceType::full: return nq * nk;
    case SliceType::causal: return sum_clamp_rising(nq, nk - nq + 1, nk);
    // Row i allows nk - i keys: the rows reversed are a rising sequence.
    case SliceType::inv_causal: return sum_clamp_rising(nq, nk - nq + 1, nk);
    case SliceType::bicausal: {
      // Row i allows min(nk - i, nk - nq + 1) keys, never negative.
      const std::int64_t c = nk - nq + 1;
      if (c <= 0) return 0;
      return sum_clamp_rising(nq, nk - nq + 1, c);
    }
  }
  return 0;
}

std::string_view to_string(SliceType t) {
  switch (t) {
    case SliceType::full: return "full";
    case SliceType::causal: return "causal";
    case SliceType::inv_causal: return "inv_causal";
    case SliceType::bicausal: return "bicausal";
  }
  return "?";
}

std::optional<SliceType> parse_slice_type(std::string_view s) {
  for (auto t : {SliceType::full, SliceType::causal, SliceType::inv_causal, SliceType::bicausal})
    if (to_string(t) == s) return t;
  return std::nullopt;
}

Mask::Mask(std::string name, std::int64_t seqlen_q, std::int64_t seqlen_k,
           std::vector<std::pair<std::string, std::string>> params, std::vector<Slice> slices,
           Predicate predicate, std::optional<VarlenForm> varlen)
    : name_(std::move(name)),
      seqlen_q_(seqlen_q),
      seqlen_k_(seqlen_k),
      params_(std::move(params)),
      slices_(std::move(slices)),
      predicate_(std::move(predicate)),
      varlen_(std::move(varlen)) {
  // Drop empty slices; the rest must lie inside the mask.
  std::erase_if(slices_, [](const Slice& s) { return s.area() == 0; });
  for (const auto& s : slices_) {
    if (s.q_begin < 0 || s.q_end > seqlen_q_ || s.k_begin < 0 || s.k_end > seqlen_k_)
      throw std::logic_error("mask " + name_ + ": slice outside the mask");
    area_ += s.area();
  }
  build_segments();
}

std::string Mask::params_json() const {
  std::string out = "{";
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (i) out += ",";
    out += "\"" + params_[i].first + "\":" + params_[i].second;
  }
  return out + "}";
}

double Mask::density() const {
  const double cells = static_cast<double>(seqlen_q_) * static_cast<double>(seqlen_k_);
  return cells > 0 ? static_cast<double>(area_) / cells : 0.0;
}

void Mask::build_segments() {
  std::vector<std::int64_t> bounds;
  bounds.reserve(2 * slices_.size() + 2);
  for (const auto& s : slices_) {
    bounds.push_back(s.q_begin);
    bounds.push_back(s.q_end);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  std::vector<std::int32_t> order(slices_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return slices_[a].q_begin < slices_[b].q_begin; });

  // Sweep the boundaries keeping the slices active on each segment.
  std::vector<std::int32_t> active;
  std::size_t next = 0;
  seg_begin_.clear();
  seg_ptr_.assign(1, 0);
  seg_slices_.clear();
  for (std::size_t b = 0; b + 1 < bounds.size(); ++b) {
    const std::int64_t row = bounds[b];
    std::erase_if(active, [&](auto i) { return slices_[i].q_end <= row; });
    while (next < order.size() && slices_[order[next]].q_begin <= row) active.push_back(order[next++]);
    seg_begin_.push_back(row);
    seg_slices_.insert(seg_slices_.end(), active.begin(), active.end());
    seg_ptr_.push_back(static_cast<std::int64_t>(seg_slices_.size()));
  }
  if (!bounds.empty()) seg_begin_.push_back(bounds.back());
}

void Mask::row_ranges(std::int64_t q, std::vector<std::pair<std::int64_t, std::int64_t>>& out) const {
  out.clear();
  if (seg_begin_.size() < 2 || q < seg_begin_.front() || q >= seg_begin_.back()) return;
  const auto it = std::upper_bound(seg_begin_.begin(), seg_begin_.end(), q);
  const std::size_t seg = static_cast<std::size_t>(it - seg_begin_.begin()) - 1;
  for (auto p = seg_ptr_[seg]; p < seg_ptr_[seg + 1]; ++p) {
    auto r = slices_[seg_slices_[p]].row_range(q);
    if (r.first < r.second) out.push_back(r);
  }
  if (out.size() <= 1) return;
  std::sort(out.begin(), out.end());
  std::size_t w = 0;
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].first <= out[w].second)
      out[w].second = std::max(out[w].second, out[i].second);
    else
      out[++w] = out[i];
  }
  out.resize(w + 1);
}

std::int64_t Mask::same_rows_from(std::int64_t q, std::int64_t limit) const {
  if (q >= limit) return 0;
  // Before the first or after the last segment rows are empty: all alike.
  if (seg_begin_.size() < 2 || q >= seg_begin_.back()) return limit - q;
  if (q < seg_begin_.front()) return std::min(limit, seg_begin_.front()) - q;
  const auto it = std::upper_bound(seg_begin_.begin(), seg_begin_.end(), q);
  const std::size_t seg = static_cast<std::size_t>(it - seg_begin_.begin()) - 1;
  for (auto p = seg_ptr_[seg]; p < seg_ptr_[seg + 1]; ++p)
    if (slices_[seg_slices_[p]].type != SliceType::full) return 1;
  return std::min(limit, seg_begin_[seg + 1]) - q;
}

void Mask::fill_tile(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk,
                     std::uint8_t* out) const {
  std::fill(out, out + nq * nk, std::uint8_t{0});
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::int64_t r = 0; r < nq; ++r) {
    row_ranges(q0 + r, ranges);
    for (auto [lo, hi] : ranges) {
      lo = std::max(lo, k0);
      hi = std::min(hi, k0 + nk);
      if (lo < hi) std::fill(out + r * nk + (lo - k0), out + r * nk + (hi - k0), std::uint8_t{1});
    }
  }
}

std::vector<std::uint8_t> Mask::dense() const {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(seqlen_q_ * seqlen_k_));
  fill_tile(0, seqlen_q_, 0, seqlen_k_, out.data());
  return out;
}

std::int64_t Mask::area_in(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) const {
  std::int64_t total = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::int64_t q = q0; q < q0 + nq;) {
    const std::int64_t rows = same_rows_from(q, q0 + nq);
    row_ranges(q, ranges);
    for (auto [lo, hi] : ranges)
      total += rows * std::max<std::int64_t>(0, std::min(hi, k0 + nk) - std::max(lo, k0));
    q += rows;
  }
  return total;
}

BlockMap Mask::block_map(std::int64_t bq, std::int64_t bk) const {
  return block_map(bq, bk, 0, seqlen_q_, 0, seqlen_k_);
}

BlockMap Mask::block_map(std::int64_t bq, std::int64_t bk, std::int64_t q0, std::int64_t nq, std::int64_t k0,
                         std::int64_t nk) const {
  if (bq <= 0 || bk <= 0) throw std::invalid_argument("block_map: tile sizes must be positive");
  BlockMap m;
  m.bq = bq;
  m.bk = bk;
  m.q_origin = q0;
  m.k_origin = k0;
  m.nq = nq;
  m.nk = nk;
  m.q_tiles = (nq + bq - 1) / bq;
  m.k_tiles = (nk + bk - 1) / bk;
  m.kinds.assign(static_cast<std::size_t>(m.q_tiles * m.k_tiles), TileKind::empty);
  m.row_begin.assign(1, 0);

  // Allowed-pair counts per key tile of one query-tile row: the two end tiles of
  // each row range get exact counts, the tiles between get +bk via a difference array.
  std::vector<std::int64_t> count(static_cast<std::size_t>(m.k_tiles) + 1);
  std::vector<std::int64_t> diff(static_cast<std::size_t>(m.k_tiles) + 1);
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (std::int64_t qt = 0; qt < m.q_tiles; ++qt) {
    std::fill(count.begin(), count.end(), 0);
    std::fill(diff.begin(), diff.end(), 0);
    const std::int64_t r0 = q0 + qt * bq, r1 = std::min(q0 + nq, r0 + bq);
    for (std::int64_t q = r0; q < r1;) {
      // Rows under only full slices repeat their ranges: count them once, times `rows`.
      const std::int64_t rows = same_rows_from(q, r1);
      row_ranges(q, ranges);
      for (auto [lo, hi] : ranges) {
        lo = std::max(lo, k0) - k0;
        hi = std::min(hi, k0 + nk) - k0;
        if (lo >= hi) continue;
        const std::int64_t t0 = lo / bk, t1 = (hi - 1) / bk;
        if (t0 == t1) {
          count[t0] += rows * (hi - lo);
        } else {
          count[t0] += rows * ((t0 + 1) * bk - lo);
          count[t1] += rows * (hi - t1 * bk);
          diff[t0 + 1] += rows * bk;
          diff[t1] -= rows * bk;
        }
      }
      q += rows;
    }
    std::int64_t run = 0;
    for (std::int64_t kt = 0; kt < m.k_tiles; ++kt) {
      run += diff[kt];
      const std::int64_t c = count[kt] + run;
      if (c == 0) continue;
      const std::int64_t cols = std::min(bk, nk - kt * bk);
      const bool full = c == (r1 - r0) * cols;
      m.kinds[qt * m.k_tiles + kt] = full ? TileKind::full : TileKind::partial;
      m.cols.push_back(static_cast<std::int32_t>(kt));
      m.full.push_back(full ? 1 : 0);
    }
    m.row_begin.push_back(static_cast<std::int64_t>(m.cols.size()));
  }
  return m;
}

}  // namespace attnbench
