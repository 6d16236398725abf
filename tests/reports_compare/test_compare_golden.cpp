// Golden tests of the compare reports: Markdown and JUnit compared line by line with checked-in files.
#include <catch2/catch.hpp>

#include "reports/compare.hpp"
#include "reports/compare_markdown.hpp"
#include "reports/junit.hpp"
#include "tests/reports_compare/golden.hpp"

using namespace attnbench;
using namespace attnbench::testing;

namespace {

// Paths as a user would type them, so the golden files do not depend on the checkout.
CompareReport mixed_report() {
  auto base = parse_run_file(read_text(fixture("baseline.json")), "baseline.json");
  auto cur = parse_run_file(read_text(fixture("mixed.json")), "results/ci/results.json");
  return compare_runs(base, cur, {});
}

}  // namespace

TEST_CASE("the mixed fixture covers every class a reader meets") {
  auto rep = mixed_report();
  CHECK(rep.count(ChangeClass::slower) == 1);
  CHECK(rep.count(ChangeClass::faster) == 1);
  CHECK(rep.count(ChangeClass::broken) == 2);  // ok -> mismatch, unsupported -> error
  CHECK(rep.count(ChangeClass::ambiguous) == 1);
  CHECK(rep.count(ChangeClass::added) == 1);
  CHECK(rep.count(ChangeClass::missing) == 1);
  CHECK(rep.count(ChangeClass::same) == 2);
  CHECK(rep.exit_code() == 1);
  CHECK(rep.failures == 3);
}

TEST_CASE("compare Markdown matches the golden file") {
  const auto diff = golden_difference(render_compare_markdown(mixed_report()), fixture("expected_mixed.md"));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("compare JUnit matches the golden file") {
  const auto diff =
      golden_difference(render_compare_junit(mixed_report()), fixture("expected_mixed.junit.xml"));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("a passing comparison's Markdown matches the golden file") {
  auto base = parse_run_file(read_text(fixture("baseline.json")), "baseline.json");
  auto cur = parse_run_file(read_text(fixture("noisy_12pct.json")), "results/ci/results.json");
  const auto diff =
      golden_difference(render_compare_markdown(compare_runs(base, cur, {})), fixture("expected_pass.md"));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("JUnit escapes what XML cannot hold") {
  CHECK(xml_escape("a<b & \"c\" 'd'>\x01") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; ");
}

TEST_CASE("a long report keeps every failing row and cuts the `same` rows first") {
  const auto md = render_compare_markdown(mixed_report(), 2);
  CHECK(md.find("| cpu.reference · causal · B1 H4 S256 D64 · fp32 fwd | 2 ms | 2.6 ms") !=
        std::string::npos);                                   // failing: listed
  CHECK(md.find("0.336 ms | +12.0 %") != std::string::npos);  // ambiguous: listed first
  CHECK(md.find("| 8 ms | 8 ms |") == std::string::npos);     // same: cut
  CHECK(md.find("| ... 4 more rows") != std::string::npos);
}
