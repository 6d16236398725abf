// The speed-quality view of approximate, dynamic and MQAR rows: each beside the fastest exact row of its
// case.
#pragma once

#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// A row that carries a quality column (approx_rel_l2, attn_recall or recall), with the fastest
// `ok` exact row of the same case (same pass, mask, shape, dtype, seed and inputs; single-device;
// exact: no approx_rel_l2 or attn_recall of its own), or nullptr when the sweep has none.
struct QualityRow {
  const ResultRow* row = nullptr;
  const ResultRow* exact = nullptr;
  double speedup = 0.0;  // exact time / row time; NaN without both times
};

std::vector<QualityRow> quality_rows(const std::vector<ResultRow>&);

// "cpu.hyper{block=64,samples=64}": the backend with its options, as the table and plots name a method.
std::string method_label(const ResultRow&);
// MQAR pairs of a row (its `inputs` column), 0 when its inputs are random.
long long pairs_of(const ResultRow&);

// results.md's "Speed and quality" section (method, mask, S, time, speed-up over the exact row,
// approx_rel_l2, attn_recall, recall; MQAR pairs when the sweep has them); "" without such rows.
std::string quality_markdown(const std::vector<ResultRow>&);

}  // namespace attnbench
