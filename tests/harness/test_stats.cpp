// Statistics of iteration times: median, percentiles, stddev and noise.
#include <catch2/catch.hpp>

#include "harness/stats.hpp"

using namespace attnbench;

TEST_CASE("summary of a known sample", "[stats]") {
  const Summary s = summarize({5, 1, 4, 2, 3});
  CHECK(s.count == 5);
  CHECK(s.median == 3);
  CHECK(s.min == 1);
  CHECK(s.max == 5);
  CHECK(s.mean == Approx(3));
  CHECK(s.stddev == Approx(1.5811388300841898));  // sample stddev of 1..5
  CHECK(s.noise == Approx(1.5811388300841898 / 3));
  CHECK(s.p20 == Approx(1.8));  // linear interpolation at rank 0.8
  CHECK(s.p80 == Approx(4.2));
}

TEST_CASE("median of an even sample interpolates", "[stats]") {
  CHECK(summarize({1, 2, 3, 10}).median == Approx(2.5));
}

TEST_CASE("a single sample has zero noise", "[stats]") {
  const Summary s = summarize({2.0});
  CHECK(s.stddev == 0);
  CHECK(s.noise == 0);
  CHECK(s.p20 == 2.0);
}
