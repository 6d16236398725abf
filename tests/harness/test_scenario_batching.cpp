// The scenario's `batching` field: parsing and validation, the packed and padded cases it expands to
// (shapes, masks, areas), and the row columns layout, padded_area and padding_waste with their case key.
#include <catch2/catch.hpp>

#include <algorithm>

#include "harness/case_row.hpp"
#include "harness/scenario.hpp"
#include "harness/schema/case_key.hpp"
#include "masks/batching.hpp"
#include "masks/library.hpp"
#include "reports/csv_reader.hpp"
#include "reports/csv_writer.hpp"
#include "reports/padding_table.hpp"
#include "tests/harness/scenario_error_util.hpp"

using namespace attnbench;
using Catch::Matchers::Contains;

namespace {
const char* kLengths = R"(
name: b
backends: [cpu.flash]
masks: [causal]
batching: {lengths: [5, 12, 3], layout: [packed, padded]}
shape: {heads_q: 2, heads_kv: 1, head_dim: 8}
)";

using test::expand_error;

std::string with_batching(const std::string& batching, const std::string& rest = "masks: [causal]") {
  return "name: b\nbackends: [cpu.flash]\n" + rest + "\nbatching: " + batching + "\n";
}
}  // namespace

TEST_CASE("batching lengths expand to a packed and a padded case", "[scenario][batching]") {
  const Scenario s = parse_scenario(kLengths, "scen.yaml");
  REQUIRE(s.batching);
  CHECK(s.batching->lengths == std::vector<std::int64_t>{5, 12, 3});
  const auto cases = expand(s);
  REQUIRE(cases.size() == 2);
  const Problem& packed = cases[0].problem;
  CHECK(cases[0].layout == "packed");
  CHECK(packed.shape.batch == 1);
  CHECK(packed.shape.seqlen_q == 20);
  CHECK(packed.mask->name() == "causal_document");
  CHECK(packed.head_masks.empty());
  // packed == causal_document over the lengths: same area and same pairs.
  const MaskPtr doc = build_mask({"causal_document", {{"doc_lengths", "[5, 12, 3]"}}}, 20, 20);
  CHECK(packed.mask->dense() == doc->dense());
  CHECK(packed.area() == 15 + 78 + 6);
  const Problem& padded = cases[1].problem;
  CHECK(cases[1].layout == "padded");
  CHECK(padded.shape.batch == 3);
  CHECK(padded.shape.seqlen_q == 12);
  REQUIRE(padded.head_masks.size() == 6);
  CHECK(padded.mask_for(0, 1).area() == 15);
  CHECK(padded.mask_for(2, 0).area() == 6);
  CHECK(padded.mask_for(2, 0).allowed(2, 1));
  CHECK_FALSE(padded.mask_for(2, 0).allowed(3, 1));  // a padded query row
  CHECK_FALSE(padded.mask_for(2, 0).allowed(5, 3));
  CHECK(padded.area() == packed.area());  // useful pairs only
  CHECK(pass_flops(padded) == Approx(pass_flops(packed)));
  // padded_area = 3 sequences x a 12 x 12 causal triangle = 3 x 78.
  CHECK(cases[0].padded_area == 234);
  CHECK(cases[1].padded_area == 234);
  // The per-sequence mask's block map skips the padding: with 4 x 4 tiles, sequence 2 (3 tokens)
  // has one non-empty tile of 9.
  const BlockMap bm = padded.mask_for(2, 0).block_map(4, 4);
  CHECK(bm.row_begin.back() == 1);
}

TEST_CASE("batching rows: layout, padded_area and padding_waste by hand, and a key per layout",
          "[scenario][batching][schema]") {
  const auto cases = expand(parse_scenario(kLengths, "scen.yaml"));
  const ResultRow packed = base_row(cases[0]), padded = base_row(cases[1]);
  for (const ResultRow* r : {&packed, &padded}) {
    REQUIRE(r->find_extra("padded_area"));
    CHECK(r->find_extra("padded_area")->value == 234);
    CHECK(r->find_extra("padding_waste")->value == Approx(1.0 - 99.0 / 234.0));
    CHECK(r->area == 99);
  }
  CHECK(packed.find_extra("layout")->text == "packed");
  CHECK(padded.find_extra("layout")->text == "padded");
  CHECK(case_key(packed) != case_key(padded));
  // The same mask, shape and lengths with only the layout changed still key apart.
  ResultRow other = padded;
  std::erase_if(other.extra, [](const Metric& m) { return m.name == "layout"; });
  other.extra.push_back({"layout", ResultRow::nan, "packed"});
  CHECK(case_key(other) != case_key(padded));
  // A row without the columns (a file from before them) keys like a row without batching.
  ResultRow old = padded;
  std::erase_if(old.extra, [](const Metric& m) { return m.name == "layout"; });
  CHECK(case_key(old) != case_key(padded));
  ResultRow plain = old;
  plain.extra.push_back({"layout", ResultRow::nan, ""});
  CHECK(case_key(old) == case_key(plain));
  // Written and read back through the CSV.
  const std::string csv = CsvWriter::header() + "\n" + CsvWriter::format_row(packed) + "\n" +
                          CsvWriter::format_row(padded) + "\n";
  const auto back = parse_results_csv(csv, "r.csv");
  REQUIRE(back.size() == 2);
  CHECK(back[1].find_extra("layout")->text == "padded");
  CHECK(back[0].find_extra("padded_area")->value == 234);
  CHECK(case_key(back[1]) == case_key(padded));
}

TEST_CASE("batching distributions: count lengths, seeded, within their bounds", "[scenario][batching]") {
  const auto lengths_of = [](const std::string& dist) {
    return parse_scenario(with_batching("{distribution: " + dist + "}"), "s.yaml").batching->lengths;
  };
  const auto a =
      lengths_of("{name: lognormal, median: 300, sigma: 0.6, min: 40, max: 1000, seed: 3, count: 64}");
  REQUIRE(a.size() == 64);
  CHECK(*std::min_element(a.begin(), a.end()) >= 40);
  CHECK(*std::max_element(a.begin(), a.end()) <= 1000);
  CHECK(a != std::vector<std::int64_t>(64, a[0]));
  CHECK(a ==
        lengths_of("{name: lognormal, median: 300, sigma: 0.6, min: 40, max: 1000, seed: 3, count: 64}"));
  CHECK(a !=
        lengths_of("{name: lognormal, median: 300, sigma: 0.6, min: 40, max: 1000, seed: 4, count: 64}"));
  // The median of many draws is near the given median.
  auto many = masks::sample_count({"lognormal", 1, 100000, 0, 300, 0.6}, 1, 4001);
  std::nth_element(many.begin(), many.begin() + 2000, many.end());
  CHECK(many[2000] == Approx(300).epsilon(0.05));
  const auto u = lengths_of("{name: uniform, min: 7, max: 9, count: 50}");
  CHECK(*std::min_element(u.begin(), u.end()) == 7);
  CHECK(*std::max_element(u.begin(), u.end()) == 9);
  CHECK(lengths_of("{name: fixed, length: 6, count: 3}") == std::vector<std::int64_t>{6, 6, 6});
  const auto pile = lengths_of("{name: pile, seed: 1, count: 8}");
  CHECK(pile.size() == 8);
}

TEST_CASE("bad batching fields: one error naming the field and the accepted values", "[scenario][batching]") {
  CHECK_THAT(expand_error(with_batching("{lengths: [4, 0]}")),
             Contains("batching.lengths") && Contains(">= 1"));
  CHECK_THAT(expand_error(with_batching("{}")), Contains("batching") && Contains("lengths or distribution"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4], distribution: {name: pile, count: 2}}")),
             Contains("not both"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4], layout: [ragged]}")),
             Contains("batching.layout") && Contains("ragged") && Contains("accepted: packed, padded"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4], sizes: 3}")),
             Contains("batching") && Contains("sizes"));
  CHECK_THAT(expand_error(with_batching("{distribution: {name: zipf, count: 3}}")),
             Contains("batching.distribution.name") && Contains("zipf") && Contains("lognormal"));
  CHECK_THAT(expand_error(with_batching("{distribution: {name: pile}}")),
             Contains("batching.distribution.count") && Contains("required"));
  CHECK_THAT(expand_error(with_batching("{distribution: {name: uniform, count: 2, min: 9}}")),
             Contains("batching.distribution.max") && Contains("uniform needs 'max'"));
  CHECK_THAT(expand_error(with_batching("{distribution: {name: uniform, count: 2, min: 9, max: 3}}")),
             Contains("batching.distribution.max") && Contains(">= min"));
  CHECK_THAT(expand_error(
                 with_batching("{distribution: {name: lognormal, count: 2, median: 9, max: 30, sigma: 0}}")),
             Contains("batching.distribution.sigma"));
  CHECK_THAT(expand_error(with_batching("{distribution: {name: pile, count: 2, length: 3}}")),
             Contains("batching.distribution") && Contains("length") && Contains("accepted"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4]}", "masks: [causal_sliding_window]")),
             Contains("masks") && Contains("causal_sliding_window") && Contains("accepted: causal, full"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4]}", "masks: [causal]\nseqlens: [64]")),
             Contains("seqlens") && Contains("set by batching"));
  CHECK_THAT(expand_error(with_batching("{lengths: [4]}", "masks: [causal]\nshape: {batch: 2}")),
             Contains("shape.batch") && Contains("set by batching"));
  CHECK_THAT(expand_error(with_batching("[4, 5]")), Contains("batching") && Contains("expected a map"));
  CHECK(expand_error(with_batching("{lengths: [4, 9], layout: padded}", "masks: [full]")).empty());
}

TEST_CASE("the padding-waste table pairs each padded row with its packed row", "[batching][reports]") {
  const auto cases = expand(parse_scenario(kLengths, "scen.yaml"));
  ResultRow packed = base_row(cases[0]), padded = base_row(cases[1]);
  packed.time_ms = 4.0;
  padded.time_ms = 5.0;
  const std::string md = padding_waste_markdown({packed, padded});
  CHECK_THAT(md, Contains("## Padding waste"));
  CHECK_THAT(md, Contains("[5, 12, 3] (count 3, max 12, sum 20)"));
  CHECK_THAT(md, Contains("| padded | 99 | 234 | 57.7 % | 5 |"));
  CHECK_THAT(md, Contains("| 1.25× |"));
  // No batching rows, no section.
  ResultRow plain = packed;
  std::erase_if(plain.extra, [](const Metric& m) { return m.name == "layout"; });
  CHECK(padding_waste_markdown({plain}).empty());
}
