// Readable names for masks and cases, shared by the comparator, the pivot tables and the plots.
#pragma once

#include <string>

#include "harness/schema/result_row.hpp"

namespace attnbench {

// "causal_sliding_window{window=256}" from a mask name and its resolved
// parameters (compact JSON object text). Values sampled from other parameters
// (doc_lengths drawn from a `distribution`) are left out, so one mask keeps one
// label across sequence lengths; long lists are abbreviated.
std::string mask_label(const std::string& mask, const std::string& params_json);

// "cpu.flash usp×4{ulysses_degree=2} · causal · B1 H8 S1024 D64 · fp32 fwd": backend
// (with strategy, world size and options for CP rows), mask, shape, dtype and pass.
std::string case_label(const ResultRow&);

}  // namespace attnbench
