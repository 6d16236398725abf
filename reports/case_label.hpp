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

// The mask label with the row's additive bias, if any: "causal + bias alibi". Tables and plots that
// group rows by mask group by this, so biased and unbiased cases never share a table.
std::string row_mask_label(const ResultRow&);

// "cpu.flash usp×4{ulysses_degree=2} · causal · B1 H8 S1024 D64 · fp32 fwd": backend
// (with strategy, world size and options for CP rows), mask, shape, dtype and pass.
std::string case_label(const ResultRow&);

// Heads and head dims as labels and plot titles write them: "H8" (K, V and Q alike), "H8/2" (fewer key
// heads), "H8/1v4" (value heads of their own); "D64", "D64v128" (V's head dim of its own).
std::string heads_text(const ResultRow&);
std::string head_dim_text(const ResultRow&);
// " Hv=4" and " Dv=128" where V differs from K, "" otherwise: for the key=value shape labels.
std::string value_heads_field(const ResultRow&);
std::string value_dim_field(const ResultRow&);

}  // namespace attnbench
