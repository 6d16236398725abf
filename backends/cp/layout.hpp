// Token layouts of CP strategies: which sequence ranges each rank holds, balanced by tokens or mask area.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench::cp {

struct Range {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
  bool operator==(const Range&) const = default;
};
using Ranges = std::vector<Range>;

std::int64_t total_tokens(const Ranges&);
// Sorted, adjacent ranges merged, empty ones dropped.
Ranges normalized(Ranges);

// Work of a set of query rows: allowed pairs against every key (what a rank
// computes in ring, all-gather and Ulysses layouts alike).
std::int64_t rows_area(const Mask&, const Ranges&);

enum class Balance { contiguous, zigzag, area };

// How the sequence [0, S) is split among `parts` holders:
//  contiguous: part i gets [i*S/parts, (i+1)*S/parts)
//  zigzag:     2*parts equal chunks, part i gets chunks i and 2*parts-1-i
//  area:       parts*chunks_per_part equal chunks, each part gets chunks_per_part of
//              them, assigned greedily (largest row area first, to the least loaded
//              part with room) to minimise the largest part's mask area.
std::vector<Ranges> assign(const Mask&, std::int64_t seqlen, int parts, Balance, int chunks_per_part = 8);

// Greedy assignment of items with the given costs to `parts` bins of exactly
// `per_part` items each (items.size() == parts * per_part): largest first to the
// least loaded bin that still has room. Returns the bin of each item.
std::vector<int> greedy_equal_count(const std::vector<std::int64_t>& costs, int parts, int per_part);

// max / mean of per-part loads (1 when all are equal or all zero).
double imbalance(const std::vector<double>& loads);

// Splits every range of a group into `members` contiguous pieces; member m gets
// piece m of each range (Ulysses members of one ring slot).
std::vector<Ranges> split_members(const Ranges& group, int members);

// Copies n rows of `width` floats between [outer, n_src, width] and [outer, n_dst, width]
// views at row offsets src_off and dst_off (adds when `add`). The one primitive
// behind sharding, gathering and head packing.
void copy_rows(const float* src, std::int64_t outer, std::int64_t n_src, std::int64_t src_off, float* dst,
               std::int64_t n_dst, std::int64_t dst_off, std::int64_t n, std::int64_t width,
               bool add = false);

// A rank's tensors are chunk-major: for each range in order a [outer, size, width]
// block. These move them out of / into a global [outer, S, width] tensor.
void extract(const float* global, std::int64_t outer, std::int64_t seqlen, std::int64_t width, const Ranges&,
             float* local);
void insert(const float* local, std::int64_t outer, std::int64_t seqlen, std::int64_t width, const Ranges&,
            float* global);

}  // namespace attnbench::cp
