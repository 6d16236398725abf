// Bad mask input: one InputError naming the mask, the parameter and the accepted range.
#include <catch2/catch.hpp>

#include <string>

#include "attnbench/types.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

// The error message of building this spec, or "" when it builds.
std::string error_of(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  try {
    build_mask(spec, sq, sk);
  } catch (const InputError& e) {
    const std::string what = e.what();
    REQUIRE(what.find('\n') == std::string::npos);  // one line
    return what;
  }
  return "";
}

void require_error(const MaskSpec& spec, std::int64_t s, const std::string& parameter,
                   const std::string& range) {
  const auto what = error_of(spec, s, s);
  INFO(what);
  REQUIRE(!what.empty());
  REQUIRE_THAT(what, Catch::Contains("'" + spec.name + "'"));
  REQUIRE_THAT(what, Catch::Contains("'" + parameter + "'"));
  REQUIRE_THAT(what, Catch::Contains(range));
}

}  // namespace

TEST_CASE("a negative window is refused", "[masks][errors]") {
  for (const char* name : {"sliding_window", "causal_sliding_window", "global_sliding_window"})
    require_error({name, {{"window", "-1"}}}, 100, "window", "[0, ");
}

TEST_CASE("a prefix beyond the sequence is refused", "[masks][errors]") {
  require_error({"prefix_lm_causal", {{"prefix", "101"}}}, 100, "prefix", "[0, 100]");
  require_error({"prefix_lm_causal", {{"prefix", "-3"}}}, 100, "prefix", "[0, 100]");
  require_error({"prefix_lm_document", {{"prefix", "101"}}}, 100, "prefix", "[0, 100]");
  require_error({"global_sliding_window", {{"global", "101"}}}, 100, "global", "[0, 100]");
}

TEST_CASE("keep outside 0 < keep <= 1 is refused", "[masks][errors]") {
  for (const char* name : {"block_sparse", "var_block_sparse"})
    for (const char* keep : {"0", "-0.5", "1.01", "abc"})
      require_error({name, {{"keep", keep}}}, 100, "keep", "(0, 1]");
  REQUIRE(error_of({"block_sparse", {{"keep", "1"}}}, 100, 100).empty());
}

TEST_CASE("doc_lengths must be positive and sum to the sequence length", "[masks][errors]") {
  for (const char* name : {"full_document", "causal_document", "share_question", "causal_blockwise",
                           "prefix_lm_document", "block_causal_document"}) {
    require_error({name, {{"doc_lengths", "[10, 20]"}}}, 100, "doc_lengths",
                  "summing to the sequence length 100");
    require_error({name, {{"doc_lengths", "[0, 100]"}}}, 100, "doc_lengths", "positive");
    require_error({name, {{"doc_lengths", "many"}}}, 100, "doc_lengths", "list");
  }
}

TEST_CASE("a block size that cannot tile the documents is refused", "[masks][errors]") {
  require_error({"block_causal_document", {{"block", "32"}, {"doc_lengths", "[40, 60]"}}}, 100, "block",
                "multiple of block");
  require_error({"block_causal_document", {{"block", "0"}}}, 100, "block", "[1, ");
  // Only the last document may be cut.
  REQUIRE(
      error_of({"block_causal_document", {{"block", "32"}, {"doc_lengths", "[64, 36]"}}}, 100, 100).empty());
}

TEST_CASE("overlapping or malformed slices are refused", "[masks][errors]") {
  require_error(
      {"slices", {{"slices", "[{q: [0, 10], k: [0, 10]}, {q: [5, 20], k: [5, 20], type: causal}]"}}}, 100,
      "slices", "overlap");
  require_error({"slices", {{"slices", "[{q: [0, 200], k: [0, 10]}]"}}}, 100, "slices",
                "0 <= begin < end <= 100");
  require_error({"slices", {{"slices", "[{q: [0, 10], k: [0, 10], type: diagonal}]"}}}, 100, "slices",
                "unknown type");
  require_error({"slices", {}}, 100, "slices", "required");
  // Rectangles may overlap when the allowed pairs do not: k >= q (inv_causal) beside k < q (causal).
  REQUIRE(error_of({"slices",
                    {{"slices",
                      "[{q: [0, 10], k: [0, 10], type: inv_causal}, "
                      "{q: [1, 10], k: [0, 9], type: causal}]"}}},
                   100, 100)
              .empty());
}

TEST_CASE("unknown distributions, masks and parameters are refused", "[masks][errors]") {
  require_error({"causal_document", {{"distribution", "wikipedia"}}}, 100, "distribution",
                "pile, prolong64k");
  require_error({"causal_document", {{"distribution", "{uniform: {min: 0, max: 5}}"}}}, 100, "distribution",
                "1 <= min");
  require_error({"causal_document", {{"distribution", "uniform"}}}, 100, "distribution", "min and max");
  require_error({"causal_document", {{"distribution", "{name: [1, 2]}"}}}, 100, "distribution", "malformed");
  require_error({"causal_document", {{"distribution", "uniform:64"}}}, 100, "distribution", "unknown");
  require_error({"causal", {{"window", "5"}}}, 100, "window", "accepted: none");
  require_error({"var_block_sparse", {{"avg_block", "10"}, {"min_block", "20"}}}, 100, "avg_block",
                ">= min_block");
  REQUIRE_THAT(error_of({"no_such_mask", {}}, 10, 10), Catch::Contains("accepted: full, causal"));
  REQUIRE_THAT(error_of({"causal_document", {}}, 10, 20), Catch::Contains("seqlen_q == seqlen_k"));
}
