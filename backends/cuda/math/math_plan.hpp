// cuda.math's host-side planning: head work items, passes that fit the budget, cuBLAS sub-batches, launch
// sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "attnbench/problem.hpp"

namespace attnbench::cuda::math {

// One query head of one batch entry. Items are numbered j-major, (j, b, g),
// where h = g * group + j: consecutive items of the same (j, b) step by a fixed
// stride through Q (group * D) and K (D), so each run of them is one strided
// batched GEMM, and all items of j = 0 come first, so dK/dV can be written with
// beta = 0 by j = 0 and accumulated (beta = 1) by the others without two GEMMs
// of one batch writing the same dK/dV.
struct HeadItem {
  std::int64_t b = 0;  // batch entry
  std::int64_t h = 0;  // query head
  std::int64_t g = 0;  // its key/value head
  std::int64_t j = 0;  // position inside the group: h = g * group + j
};

#ifdef __CUDACC__
#define ATTNBENCH_HOST_DEVICE __host__ __device__
#else
#define ATTNBENCH_HOST_DEVICE
#endif

// Shared by the host planning and the row kernels, so both number items alike.
ATTNBENCH_HOST_DEVICE inline HeadItem item_head(std::int64_t item, std::int64_t batch, std::int64_t heads_q,
                                                std::int64_t heads_kv) {
  const std::int64_t per_j = batch * heads_kv;
  HeadItem it;
  it.j = item / per_j;
  const std::int64_t r = item % per_j;
  it.b = r / heads_kv;
  it.g = r % heads_kv;
  it.h = it.g * (heads_q / heads_kv) + it.j;
  return it;
}

inline HeadItem item_head(std::int64_t item, const Shape& s) {
  return item_head(item, s.batch, s.heads_q, s.heads_kv);
}
inline std::int64_t item_count(const Shape& s) { return s.batch * s.heads_q; }

// Runs [begin, end) of items that share (j, b): the GEMM sub-batches of a pass [c0, c1).
std::vector<std::pair<std::int64_t, std::int64_t>> gemm_sub_batches(std::int64_t c0, std::int64_t c1,
                                                                    const Shape& s);

// Bytes of S×S intermediates per head item: forward keeps fp32 scores and
// probabilities in the input dtype; backward adds fp32 dP and dS in the dtype.
std::size_t score_bytes_per_item(const Shape& s, std::size_t dtype_bytes, bool backward);

// The most head items per pass whose intermediates fit in `available` bytes,
// capped by the item count and by the kernels' grid limit (65535 in y).
// `requested` > 0 asks for that many (still capped). Returns 0 when a single
// item does not fit: the case is `oom`.
std::int64_t items_per_pass(std::int64_t items, std::size_t bytes_per_item, std::size_t available,
                            std::int64_t requested);

// Threads of the row kernels (softmax forward/backward): one block per row, a
// power of two between 32 and 512, about 8 keys per thread.
int row_kernel_threads(std::int64_t seqlen_k);

// Rows per block of the dO·O row-dot kernel (one warp per row).
inline constexpr int kRowDotWarps = 8;
inline std::int64_t row_dot_blocks(std::int64_t rows) { return (rows + kRowDotWarps - 1) / kRowDotWarps; }

inline constexpr std::int64_t kMaxGridY = 65535;

}  // namespace attnbench::cuda::math
