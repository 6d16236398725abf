// Builds the forward (query-major) and backward (key-major) tile schedules and their partial-tile bitmasks.
#include "backends/cuda/flash/schedule.hpp"

#include <algorithm>
#include <stdexcept>

#include "backends/cuda/flash/bitmask.hpp"

namespace attnbench::cuda::flash {

std::int64_t TileSchedule::words_per_tile() const {
  return key_major ? std::int64_t{block_k} * words_per_row(block_q)
                   : std::int64_t{block_q} * words_per_row(block_k);
}

std::int64_t TileSchedule::partial_tiles() const {
  const auto w = words_per_tile();
  return w == 0 ? 0 : static_cast<std::int64_t>(bits.size()) / w;
}

void pack_tile_bits(const std::uint8_t* dense, int rows, int cols, bool transpose, int out_rows, int out_cols,
                    std::uint32_t* out) {
  const int wpr = words_per_row(out_cols);
  std::fill(out, out + static_cast<std::ptrdiff_t>(out_rows) * wpr, 0u);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      if (dense[static_cast<std::ptrdiff_t>(r) * cols + c] == 0) continue;
      const int orow = transpose ? c : r, ocol = transpose ? r : c;
      if (orow >= out_rows || ocol >= out_cols)
        throw std::logic_error("pack_tile_bits: dense tile larger than the packed tile");
      out[orow * wpr + (ocol >> 5)] |= 1u << (ocol & 31);
    }
}

namespace {

struct Entry {
  std::int32_t outer, inner;
  bool full;
  std::int32_t q_tile, k_tile;
};

// Tiles of the rectangle [q_origin, q_origin + sq) × [k_origin, k_origin + sk) of
// the mask, aligned to its origin; indices in the schedule are rectangle-local.
TileSchedule build(const Mask& mask, int block_q, int block_k, bool key_major, std::int64_t q_origin,
                   std::int64_t sq, std::int64_t k_origin, std::int64_t sk) {
  if (block_q <= 0 || block_k <= 0 || block_q % 32 != 0 || block_k % 32 != 0)
    throw std::invalid_argument("cuda.flash schedule: tile sizes must be positive multiples of 32");
  if (q_origin < 0 || sq < 0 || k_origin < 0 || sk < 0 || q_origin + sq > mask.seqlen_q() ||
      k_origin + sk > mask.seqlen_k())
    throw std::invalid_argument("cuda.flash schedule: rectangle outside the mask");
  const BlockMap map = mask.block_map(block_q, block_k, q_origin, sq, k_origin, sk);

  TileSchedule s;
  s.key_major = key_major;
  s.block_q = block_q;
  s.block_k = block_k;
  s.q_tiles = static_cast<std::int32_t>(map.q_tiles);
  s.k_tiles = static_cast<std::int32_t>(map.k_tiles);

  // Non-empty tiles in query-major order; a tile is full only when it also lies
  // wholly inside the sequence (the kernels do not test bounds on full tiles).
  std::vector<Entry> entries;
  entries.reserve(map.cols.size());
  for (std::int32_t qt = 0; qt < s.q_tiles; ++qt)
    for (auto e = map.row_begin[qt]; e < map.row_begin[qt + 1]; ++e) {
      const std::int32_t kt = map.cols[e];
      const bool inside = (qt + 1) * std::int64_t{block_q} <= sq && (kt + 1) * std::int64_t{block_k} <= sk;
      entries.push_back({key_major ? kt : qt, key_major ? qt : kt, map.full[e] != 0 && inside, qt, kt});
    }
  if (key_major)  // stable: query tiles stay increasing inside each key tile
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.outer < b.outer; });

  const std::int32_t outer = key_major ? s.k_tiles : s.q_tiles;
  s.begin.assign(static_cast<std::size_t>(outer) + 1, 0);
  for (const auto& e : entries) ++s.begin[e.outer + 1];
  for (std::int32_t t = 0; t < outer; ++t) s.begin[t + 1] += s.begin[t];

  const std::int64_t wpt = s.words_per_tile();
  std::vector<std::uint8_t> dense(static_cast<std::size_t>(block_q) * block_k);
  std::int32_t slots = 0;
  for (const auto& e : entries) {
    s.tiles.push_back(e.inner);
    if (e.full) {
      s.mask_slot.push_back(-1);
      continue;
    }
    s.mask_slot.push_back(slots++);
    const std::int64_t q0 = std::int64_t{e.q_tile} * block_q, k0 = std::int64_t{e.k_tile} * block_k;
    const int nq = static_cast<int>(std::min<std::int64_t>(block_q, sq - q0));
    const int nk = static_cast<int>(std::min<std::int64_t>(block_k, sk - k0));
    mask.fill_tile(q_origin + q0, nq, k_origin + k0, nk, dense.data());
    s.bits.resize(s.bits.size() + static_cast<std::size_t>(wpt));
    std::uint32_t* out = s.bits.data() + s.bits.size() - wpt;
    if (key_major)
      pack_tile_bits(dense.data(), nq, nk, true, block_k, block_q, out);
    else
      pack_tile_bits(dense.data(), nq, nk, false, block_q, block_k, out);
  }
  return s;
}

}  // namespace

TileSchedule build_query_major_schedule(const Mask& mask, int block_q, int block_k) {
  return build(mask, block_q, block_k, false, 0, mask.seqlen_q(), 0, mask.seqlen_k());
}

TileSchedule build_key_major_schedule(const Mask& mask, int block_q, int block_k) {
  return build(mask, block_q, block_k, true, 0, mask.seqlen_q(), 0, mask.seqlen_k());
}

TileSchedule build_query_major_schedule(const Mask& mask, int block_q, int block_k, const Rect& r) {
  return build(mask, block_q, block_k, false, r.q0, r.nq, r.k0, r.nk);
}

TileSchedule build_key_major_schedule(const Mask& mask, int block_q, int block_k, const Rect& r) {
  return build(mask, block_q, block_k, true, r.q0, r.nq, r.k0, r.nk);
}

}  // namespace attnbench::cuda::flash
