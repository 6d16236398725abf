// The mask query API: predicate, exact area, range slices, block maps, dense form.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace attnbench {

// How a rectangular slice q∈[q_begin,q_end) × k∈[k_begin,k_end) is masked,
// as in MagiAttention's AttnSlice. With nq = q_end-q_begin, nk = k_end-k_begin,
// i = q-q_begin, j = k-k_begin:
//   full:       always
//   causal:     j <= i + (nk - nq)      (bottom-right aligned)
//   inv_causal: j >= i                  (top-left aligned)
//   bicausal:   causal && inv_causal
enum class SliceType : std::uint8_t { full, causal, inv_causal, bicausal };

struct Slice {
  std::int64_t q_begin = 0, q_end = 0, k_begin = 0, k_end = 0;
  SliceType type = SliceType::full;

  // Allowed keys of row q (global index) as a half-open range; empty when
  // lo >= hi or q is outside the slice.
  std::pair<std::int64_t, std::int64_t> row_range(std::int64_t q) const;
  // Exact number of allowed pairs, in O(1).
  std::int64_t area() const;
};

std::string_view to_string(SliceType);
std::optional<SliceType> parse_slice_type(std::string_view);

enum class TileKind : std::uint8_t { empty = 0, partial = 1, full = 2 };

// Tile classification of the rectangle [q_origin, q_origin + nq) × [k_origin, k_origin + nk)
// for tiles of bq × bk (the last tile of each axis may be short).
struct BlockMap {
  std::int64_t bq = 0, bk = 0;
  std::int64_t q_origin = 0, k_origin = 0;
  std::int64_t nq = 0, nk = 0;  // extent of the rectangle
  std::int64_t q_tiles = 0, k_tiles = 0;
  std::vector<TileKind> kinds;  // q_tiles × k_tiles, row-major
  // Compressed rows: for query tile t, the non-empty key tiles are
  // cols[row_begin[t] .. row_begin[t+1]) in increasing order, full[i] != 0 when
  // the tile needs no per-element test. This is what tile-skipping kernels walk.
  std::vector<std::int64_t> row_begin;
  std::vector<std::int32_t> cols;
  std::vector<std::uint8_t> full;

  TileKind at(std::int64_t qt, std::int64_t kt) const { return kinds[qt * k_tiles + kt]; }
};

// cu_seqlens + window form for cuDNN/FlashAttention-style varlen APIs: the mask
// equals "same segment and (window)" where each segment is [cu[i], cu[i+1]) on both
// axes. A negative bound means unbounded. `causal` is window_right == 0.
struct VarlenForm {
  std::vector<std::int64_t> cu_seqlens;  // size = segments + 1, starts at 0, ends at S
  std::int64_t window_left = -1;         // allowed when q - k <= window_left (or unbounded)
  std::int64_t window_right = -1;        // allowed when k - q <= window_right (or unbounded)
};

// One concrete mask for one (Sq, Sk): every derived form comes from the same
// non-overlapping slice list, and `allowed` is the definition from DESIGN.md's
// table, kept separate so that tests can prove the two agree.
class Mask {
 public:
  using Predicate = std::function<bool(std::int64_t q, std::int64_t k)>;

  Mask(std::string name, std::int64_t seqlen_q, std::int64_t seqlen_k,
       std::vector<std::pair<std::string, std::string>> params, std::vector<Slice> slices,
       Predicate predicate, std::optional<VarlenForm> varlen = std::nullopt);

  const std::string& name() const { return name_; }
  std::int64_t seqlen_q() const { return seqlen_q_; }
  std::int64_t seqlen_k() const { return seqlen_k_; }
  // Resolved parameters (sampled doc_lengths, seeds, window...) as (key, JSON text).
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }
  // The same as one compact JSON object, e.g. {"window":256}.
  std::string params_json() const;

  bool allowed(std::int64_t q, std::int64_t k) const { return predicate_(q, k); }
  std::span<const Slice> slices() const { return slices_; }
  std::int64_t area() const { return area_; }
  double density() const;

  // Allowed key ranges of row q, sorted and merged (appended to `out` after clearing it).
  void row_ranges(std::int64_t q, std::vector<std::pair<std::int64_t, std::int64_t>>& out) const;
  // Dense 0/1 bytes of the rectangle [q0, q0+nq) × [k0, k0+nk), row-major (nq × nk).
  void fill_tile(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk, std::uint8_t* out) const;
  // Dense 0/1 bytes of the whole mask, Sq × Sk.
  std::vector<std::uint8_t> dense() const;
  // Block map of a sub-rectangle (default: the whole mask); tiles are aligned to
  // the rectangle's origin, so a CP rank's chunk has its own tiling.
  BlockMap block_map(std::int64_t bq, std::int64_t bk) const;
  BlockMap block_map(std::int64_t bq, std::int64_t bk, std::int64_t q0, std::int64_t nq, std::int64_t k0,
                     std::int64_t nk) const;
  // Allowed pairs inside a sub-rectangle, exact, from the slices.
  std::int64_t area_in(std::int64_t q0, std::int64_t nq, std::int64_t k0, std::int64_t nk) const;

  const std::optional<VarlenForm>& varlen() const { return varlen_; }

 private:
  std::string name_;
  std::int64_t seqlen_q_, seqlen_k_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<Slice> slices_;
  Predicate predicate_;
  std::optional<VarlenForm> varlen_;
  std::int64_t area_ = 0;
  // Row segments: rows [seg_begin[i], seg_begin[i+1]) are covered by the slices
  // seg_slices[seg_ptr[i] .. seg_ptr[i+1]), so a row lookup is a binary search.
  std::vector<std::int64_t> seg_begin_;
  std::vector<std::int64_t> seg_ptr_;
  std::vector<std::int32_t> seg_slices_;
  void build_segments();
  // How many rows from q (before limit) have the same key ranges as row q.
  std::int64_t same_rows_from(std::int64_t q, std::int64_t limit) const;
};

using MaskPtr = std::shared_ptr<const Mask>;

}  // namespace attnbench
