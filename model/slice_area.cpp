// Closed-form rectangle areas of slices (piecewise-linear row bounds) and a row-bucket index of the slices.
#include "model/slice_area.hpp"

#include <algorithm>
#include <limits>

namespace attnbench::model {

namespace {

// Sum over integer q in [s, e) of max(0, alpha * q + beta), alpha in {-1, 0, 1}.
std::int64_t positive_sum(int alpha, std::int64_t beta, std::int64_t s, std::int64_t e) {
  if (s >= e) return 0;
  if (alpha == 0) return beta > 0 ? beta * (e - s) : 0;
  if (alpha == 1) {  // q + beta > 0 from q = 1 - beta
    const std::int64_t lo = std::max(s, 1 - beta);
    if (lo >= e) return 0;
    const std::int64_t n = e - lo, first = lo + beta, last = e - 1 + beta;
    return n * (first + last) / 2;
  }
  const std::int64_t hi = std::min(e, beta);  // beta - q > 0 below q = beta
  if (hi <= s) return 0;
  const std::int64_t n = hi - s, first = beta - s, last = beta - (hi - 1);
  return n * (first + last) / 2;
}

}  // namespace

std::int64_t slice_area_in(const Slice& sl, std::int64_t q0, std::int64_t q1, std::int64_t k0,
                           std::int64_t k1) {
  const std::int64_t qs = std::max(q0, sl.q_begin), qe = std::min(q1, sl.q_end);
  const std::int64_t C1 = std::min(sl.k_end, k1), C2 = std::max(sl.k_begin, k0);
  if (qs >= qe || C1 <= C2) return 0;
  // Row q allows [max(C2, q + d), min(C1, q + c)); c exists for causal bounds, d for inv_causal.
  const bool has_c = sl.type == SliceType::causal || sl.type == SliceType::bicausal;
  const bool has_d = sl.type == SliceType::inv_causal || sl.type == SliceType::bicausal;
  const std::int64_t c = sl.k_end - sl.q_end + 1, d = sl.k_begin - sl.q_begin;
  // Breakpoints: hi is q + c below q = C1 - c; lo is q + d from q = C2 - d.
  std::int64_t cuts[4] = {qs, qe, qe, qe};
  int n = 1;
  if (has_c && C1 - c > qs && C1 - c < qe) cuts[n++] = C1 - c;
  if (has_d && C2 - d > qs && C2 - d < qe) cuts[n++] = C2 - d;
  if (n == 3 && cuts[2] < cuts[1]) std::swap(cuts[1], cuts[2]);  // at most two cuts inside
  cuts[n] = qe;
  std::int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    const std::int64_t s = cuts[i], e = cuts[i + 1];
    if (s >= e) continue;
    int alpha = 0;
    std::int64_t beta = 0;
    if (has_c && s < C1 - c) {  // hi = q + c
      alpha += 1;
      beta += c;
    } else {
      beta += C1;
    }
    if (has_d && s >= C2 - d) {  // lo = q + d
      alpha -= 1;
      beta -= d;
    } else {
      beta -= C2;
    }
    total += positive_sum(alpha, beta, s, e);
  }
  return total;
}

SliceAreas::SliceAreas(const Mask& m)
    : slices_(m.slices().begin(), m.slices().end()), seqlen_q_(m.seqlen_q()) {
  const std::int64_t buckets =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(slices_.size()), 1, 1 << 16);
  bucket_ = std::max<std::int64_t>(1, (seqlen_q_ + buckets - 1) / buckets);
  const std::int64_t nb = (seqlen_q_ + bucket_ - 1) / bucket_ + 1;
  std::vector<std::int64_t> count(static_cast<std::size_t>(nb + 1), 0);
  auto span = [&](const Slice& s) {
    return std::pair{s.q_begin / bucket_, (std::max(s.q_end, s.q_begin + 1) - 1) / bucket_};
  };
  for (const auto& s : slices_) {
    if (s.q_end <= s.q_begin) continue;
    auto [b0, b1] = span(s);
    for (auto b = b0; b <= b1; ++b) ++count[b + 1];
  }
  for (std::int64_t b = 0; b < nb; ++b) count[b + 1] += count[b];
  ptr_ = count;
  ids_.resize(static_cast<std::size_t>(ptr_[nb]));
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    const auto& s = slices_[i];
    if (s.q_end <= s.q_begin) continue;
    auto [b0, b1] = span(s);
    for (auto b = b0; b <= b1; ++b) ids_[count[b]++] = static_cast<std::int32_t>(i);
  }
}

std::int64_t SliceAreas::area_in(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) const {
  if (nq <= 0 || nk <= 0) return 0;
  const std::int64_t q1 = q0 + nq, k1 = k0 + nk;
  const std::int64_t b0 = q0 / bucket_, b1 = (q1 - 1) / bucket_;
  std::int64_t total = 0;
  for (std::int64_t b = b0; b <= b1; ++b)
    for (std::int64_t i = ptr_[b]; i < ptr_[b + 1]; ++i) {
      const Slice& s = slices_[ids_[i]];
      // Count a slice once: in the first bucket of the query range that it meets.
      if (std::max(s.q_begin / bucket_, b0) != b) continue;
      if (s.k_end <= k0 || s.k_begin >= k1) continue;
      total += slice_area_in(s, q0, q1, k0, k1);
    }
  return total;
}

std::pair<std::int64_t, std::int64_t> SliceAreas::key_extent(std::int64_t q0, std::int64_t nq) const {
  std::int64_t first = std::numeric_limits<std::int64_t>::max(),
               last = std::numeric_limits<std::int64_t>::min();
  if (nq <= 0) return {first, last};
  const std::int64_t q1 = q0 + nq, b0 = q0 / bucket_, b1 = (q1 - 1) / bucket_;
  for (std::int64_t b = b0; b <= b1; ++b)
    for (std::int64_t i = ptr_[b]; i < ptr_[b + 1]; ++i) {
      const Slice& s = slices_[ids_[i]];
      if (s.q_end <= q0 || s.q_begin >= q1) continue;
      first = std::min(first, s.k_begin);
      last = std::max(last, s.k_end);
    }
  return {first, last};
}

PartAreas::PartAreas(const SliceAreas& a, const std::vector<cp::Ranges>& parts) : areas_(a), parts_(parts) {
  for (const auto& part : parts) {
    std::vector<Row> rows;
    for (const auto& r : part) {
      const auto [f, l] = a.key_extent(r.begin, r.size());
      rows.push_back({r, f, l});
    }
    rows_.push_back(std::move(rows));
  }
}

std::int64_t PartAreas::operator()(int rp, int cp_) const {
  std::int64_t total = 0;
  for (const auto& row : rows_[static_cast<std::size_t>(rp)])
    for (const auto& col : parts_[static_cast<std::size_t>(cp_)]) {
      if (col.end <= row.k_first || col.begin >= row.k_last) continue;  // no slice reaches these keys
      total += areas_.area_in(row.rows.begin, row.rows.size(), col.begin, col.size());
    }
  return total;
}

std::int64_t SliceAreas::area(const cp::Ranges& rows, const cp::Ranges& cols) const {
  std::int64_t a = 0;
  for (const auto& r : rows)
    for (const auto& c : cols) a += area_in(r.begin, r.size(), c.begin, c.size());
  return a;
}

}  // namespace attnbench::model
