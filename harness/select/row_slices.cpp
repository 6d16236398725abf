// Compresses per-row key ranges into AttnSlice-style slices (see row_slices.hpp).
#include "harness/select/row_slices.hpp"

#include <algorithm>
#include <memory>

namespace attnbench::select {

void intersect(const Ranges& a, const Ranges& b, Ranges& out) {
  out.clear();
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const std::int64_t lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].second, b[j].second);
    if (lo < hi) out.emplace_back(lo, hi);
    if (a[i].second < b[j].second)
      ++i;
    else
      ++j;
  }
}

void normalise(Ranges& r) {
  std::sort(r.begin(), r.end());
  std::size_t w = 0;
  for (const auto& x : r) {
    if (x.first >= x.second) continue;
    if (w > 0 && x.first <= r[w - 1].second)
      r[w - 1].second = std::max(r[w - 1].second, x.second);
    else
      r[w++] = x;
  }
  r.resize(w);
}

namespace {

enum class Kind { single, full, causal, inv, band };

// A run of consecutive rows whose ranges follow one pattern, from row q0 (range lo0..hi0) to the last row
// seen.
struct Run {
  std::int64_t q0, lo0, hi0, lo, hi;
  Kind kind;
};

Slice close(const Run& r, std::int64_t q_end) {
  const std::int64_t nq = q_end - r.q0;
  switch (r.kind) {
    case Kind::single:
    case Kind::full: return {r.q0, q_end, r.lo0, r.hi0, SliceType::full};
    case Kind::causal: return {r.q0, q_end, r.lo0, r.hi0 + nq - 1, SliceType::causal};
    case Kind::inv: return {r.q0, q_end, r.lo0, r.hi0, SliceType::inv_causal};
    case Kind::band: return {r.q0, q_end, r.lo0, r.hi0 + nq - 1, SliceType::bicausal};
  }
  return {};
}

// The kind a run takes if row range (lo, hi) continues it, or nothing.
bool continues(const Run& r, std::int64_t lo, std::int64_t hi, Kind& kind) {
  const std::int64_t dlo = lo - r.lo, dhi = hi - r.hi;
  Kind k;
  if (dlo == 0 && dhi == 0)
    k = Kind::full;
  else if (dlo == 0 && dhi == 1)
    k = Kind::causal;
  else if (dlo == 1 && dhi == 0)
    k = Kind::inv;
  else if (dlo == 1 && dhi == 1)
    k = Kind::band;
  else
    return false;
  if (r.kind != Kind::single && r.kind != k) return false;
  kind = k;
  return true;
}

}  // namespace

std::vector<Slice> rows_to_slices(std::int64_t seqlen_q,
                                  const std::function<void(std::int64_t, Ranges&)>& rows) {
  std::vector<Slice> out;
  std::vector<Run> open, next;  // open: sorted by lo (the previous row's ranges are sorted)
  Ranges r;
  for (std::int64_t q = 0; q < seqlen_q; ++q) {
    rows(q, r);
    next.clear();
    std::size_t j = 0;  // the first open run that may still continue
    for (const auto& [lo, hi] : r) {
      // Runs ending before this range's start minus one can no longer continue: close them.
      while (j < open.size() && open[j].lo < lo - 1) out.push_back(close(open[j++], q));
      Kind kind{};
      if (j < open.size() && continues(open[j], lo, hi, kind)) {
        Run run = open[j++];
        run.kind = kind;
        run.lo = lo;
        run.hi = hi;
        next.push_back(run);
      } else if (j + 1 < open.size() && open[j].lo == lo - 1 && continues(open[j + 1], lo, hi, kind)) {
        out.push_back(close(open[j], q));
        Run run = open[j + 1];
        j += 2;
        run.kind = kind;
        run.lo = lo;
        run.hi = hi;
        next.push_back(run);
      } else {
        next.push_back({q, lo, hi, lo, hi, Kind::single});
      }
    }
    while (j < open.size()) out.push_back(close(open[j++], q));
    open.swap(next);
  }
  for (const auto& run : open) out.push_back(close(run, seqlen_q));
  return out;
}

MaskPtr make_selected(const std::string& name, std::vector<std::pair<std::string, std::string>> params,
                      std::int64_t seqlen_q, std::int64_t seqlen_k,
                      const std::function<void(std::int64_t, Ranges&)>& rows, Mask::Predicate predicate) {
  return std::make_shared<Mask>(name, seqlen_q, seqlen_k, std::move(params), rows_to_slices(seqlen_q, rows),
                                std::move(predicate));
}

}  // namespace attnbench::select
