// Exact or refused: duplicate keys, --set errors, empty files, the seqlen limit, labels with mask
// parameters, and a --filter that matches nothing (issue 15 item 6).
#include <catch2/catch.hpp>

#include "attnbench/types.hpp"
#include "harness/scenario.hpp"
#include "harness/sweep.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {

const char* base = R"(name: t
backends: [cpu.reference]
masks:
  - {name: causal_sliding_window, window: [16, 32]}
seqlens: [64]
shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 16}
)";

std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    expand(parse_scenario(text, "scen.yaml", sets));
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);  // one line
    return what;
  }
  return "";
}

}  // namespace

TEST_CASE("a duplicate key is refused naming the key and both lines, at any depth", "[scenario][refusals]") {
  CHECK_THAT(error_of(std::string(base) + "seqlens: [128]\n"),
             Contains("scen.yaml:7: seqlens: duplicate key (also on line 5"));
  CHECK_THAT(
      error_of("backends: [cpu.reference]\nmasks: [causal]\nseqlens: [64]\nshape:\n  batch: 1\n  batch: 2\n"),
      Contains("scen.yaml:6: shape.batch: duplicate key (also on line 5"));
  CHECK_THAT(
      error_of(
          "backends: [cpu.reference]\nmasks:\n  - causal\n  - {name: sliding_window, window: 8, window: 9}\n"
          "seqlens: [64]\n"),
      Contains("scen.yaml:4: masks[1].window: duplicate key (also on line 4"));
  CHECK(error_of(base).empty());  // the same key in two different maps is fine
}

TEST_CASE("a bad --set value names the --set, not a line of the file", "[scenario][refusals]") {
  CHECK_THAT(error_of(base, {"seqlens=long"}),
             Contains("scen.yaml: --set seqlens=long: seqlens: expected an integer"));
  CHECK_THAT(error_of(base, {"shape.head_dim=[16, -8]"}),
             Contains("--set shape.head_dim=[16, -8]: shape.head_dim: must be >= 1"));
  CHECK_THAT(error_of(base, {"shape..batch=2"}),
             Contains("--set shape..batch=2: empty part in the key path"));
  CHECK_THAT(error_of(base, {"shape.batch.n=2"}),
             Contains("--set shape.batch.n=2: shape.batch: expected an integer"));
}

TEST_CASE("empty, list-shaped and oversized scenarios are refused in one line", "[scenario][refusals]") {
  CHECK_THAT(error_of(""),
             Contains("scen.yaml: the scenario is empty (required fields: backends, masks, seqlens)"));
  CHECK_THAT(error_of("# only a comment\n"), Contains("the scenario is empty"));
  CHECK_THAT(error_of("- causal\n"),
             Contains("scen.yaml:1: a scenario must be a YAML map of fields (got a list"));
  CHECK_THAT(error_of("backends: [cpu.reference]\nmasks: [causal]\nseqlens: {a: 1}\n"),
             Contains("scen.yaml:3: seqlens: expected an integer or a list of integers, got a map"));
  CHECK_THAT(error_of("backends: [cpu.reference]\nmasks: [causal]\nseqlens: [2147483649]\n"),
             Contains("seqlens: 2147483649 is past the limit (accepted: 1 to 2147483648)"));
  CHECK(error_of("backends: [cpu.reference]\nmasks: [causal]\nseqlens: [2147483648]\n").empty());
}

TEST_CASE("a second document, an int past its range and a name that is no folder are refused",
          "[scenario][refusals]") {
  CHECK_THAT(error_of(std::string(base) + "---\nseqlens: [128]\n"),
             Contains("scen.yaml:8: a second YAML document"));
  CHECK_THAT(error_of(std::string(base) + "timing: {warmup: 3000000000}\n"),
             Contains("timing.warmup: 3000000000 is past the limit (accepted: 0 to 2147483647)"));
  CHECK_THAT(error_of(std::string(base) + "world_sizes: [4294967297]\n"),
             Contains("world_sizes: 4294967297 is past"));
  CHECK_THAT(error_of(base, {"name=../x"}), Contains("name: '../x' is not usable as a folder name"));
  CHECK_THAT(error_of(base, {"name=''"}), Contains("name: '' is not usable"));
}

TEST_CASE("case labels carry the mask's parameters, so a filter picks one variant", "[scenario][refusals]") {
  const auto cases = expand(parse_scenario(base, "scen.yaml"));
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].label() == "cpu.reference/causal_sliding_window{window=16}/S=64/B1H2x2D16/fp32/fwd");
  CHECK(cases[1].label() == "cpu.reference/causal_sliding_window{window=32}/S=64/B1H2x2D16/fp32/fwd");
  std::size_t picked = 0;
  for (const auto& c : cases) picked += glob_match("*window=32}*", c.label());
  CHECK(picked == 1);
  CHECK_NOTHROW(check_filter_matches(cases, "*window=32}*"));
  CHECK_NOTHROW(check_filter_matches(cases, ""));
}

TEST_CASE("a --filter that matches no case is refused with a few labels", "[scenario][refusals]") {
  const auto cases = expand(parse_scenario(base, "scen.yaml"));
  try {
    check_filter_matches(cases, "cuda.*");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Contains("--filter cuda.*: matches no case of 2"));
    CHECK_THAT(what, Contains("cpu.reference/causal_sliding_window{window=16}/S=64"));
  }
}
