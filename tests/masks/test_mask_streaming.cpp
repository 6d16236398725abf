// The `streaming` mask (DuoAttention's streaming heads) against the contract's element-wise definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "attnbench/types.hpp"
#include "harness/cli/cmd_mask.hpp"
#include "masks/library.hpp"

using namespace attnbench;

namespace {

// DESIGN.md: k <= q && (k < s || q - k < r), with q at its bottom-right aligned position
// q + Sk - Sq. Written here again, apart from the library's predicate, so that a shared
// mistake cannot pass.
bool contract(std::int64_t q, std::int64_t k, std::int64_t sq, std::int64_t sk, std::int64_t s,
              std::int64_t r) {
  const std::int64_t pos = q + sk - sq;
  return k <= pos && (k < s || pos - k < r);
}

MaskPtr streaming(std::int64_t sq, std::int64_t sk, std::int64_t s, std::int64_t r) {
  return build_mask({"streaming", {{"sink", std::to_string(s)}, {"recent", std::to_string(r)}}}, sq, sk);
}

// Area, sub-rectangle areas and every tile's kind, counted cell by cell from the contract.
void require_brute_force(std::int64_t sq, std::int64_t sk, std::int64_t s, std::int64_t r, std::int64_t bq,
                         std::int64_t bk) {
  INFO("Sq=" << sq << " Sk=" << sk << " sink=" << s << " recent=" << r << " tiles " << bq << "x" << bk);
  const auto m = streaming(sq, sk, s, r);
  std::int64_t area = 0;
  for (std::int64_t q = 0; q < sq; ++q)
    for (std::int64_t k = 0; k < sk; ++k) area += contract(q, k, sq, sk, s, r) ? 1 : 0;
  REQUIRE(m->area() == area);
  REQUIRE(mask_area({"streaming", {{"sink", std::to_string(s)}, {"recent", std::to_string(r)}}}, sq, sk) ==
          area);
  const BlockMap bm = m->block_map(bq, bk);
  REQUIRE(bm.q_tiles == (sq + bq - 1) / bq);
  REQUIRE(bm.k_tiles == (sk + bk - 1) / bk);
  for (std::int64_t qt = 0; qt < bm.q_tiles; ++qt)
    for (std::int64_t kt = 0; kt < bm.k_tiles; ++kt) {
      const std::int64_t q0 = qt * bq, q1 = std::min(sq, q0 + bq), k0 = kt * bk, k1 = std::min(sk, k0 + bk);
      std::int64_t ones = 0;
      for (std::int64_t q = q0; q < q1; ++q)
        for (std::int64_t k = k0; k < k1; ++k) ones += contract(q, k, sq, sk, s, r) ? 1 : 0;
      const TileKind expected = ones == 0                       ? TileKind::empty
                                : ones == (q1 - q0) * (k1 - k0) ? TileKind::full
                                                                : TileKind::partial;
      INFO("tile " << qt << "," << kt);
      REQUIRE(bm.at(qt, kt) == expected);
      REQUIRE(m->area_in(q0, q1 - q0, k0, k1 - k0) == ones);
    }
}

}  // namespace

TEST_CASE("streaming area and tiles equal the element-wise count of k <= q && (k < s || q - k < r)",
          "[masks][streaming]") {
  SECTION("odd lengths, S not a multiple of the tile") {
    require_brute_force(333, 333, 17, 40, 64, 64);
    require_brute_force(1000, 1000, 128, 256, 64, 48);
    require_brute_force(97, 97, 5, 9, 16, 7);
  }
  SECTION("sink 0: the recent window alone") { require_brute_force(301, 301, 0, 33, 32, 32); }
  SECTION("sink and recent past the sequence") {
    require_brute_force(129, 129, 500, 3, 32, 32);
    require_brute_force(129, 129, 4, 500, 32, 32);
    require_brute_force(129, 129, 500, 500, 64, 64);
  }
  SECTION("recent 1: the sinks plus the diagonal") { require_brute_force(200, 200, 7, 1, 64, 64); }
  SECTION("decode: a few queries at the end of a longer cache") {
    require_brute_force(1, 1500, 128, 256, 1, 64);
    require_brute_force(16, 1500, 128, 256, 16, 64);
    require_brute_force(7, 300, 128, 256, 4, 64);  // sink and window overlap
  }
  SECTION("more queries than keys: the first rows see nothing") {
    require_brute_force(90, 40, 3, 10, 16, 16);
  }
}

TEST_CASE("streaming by hand and in closed form", "[masks][streaming]") {
  // S = 6, sink 1, recent 2: rows see {0}, {0,1}, {0,1,2}, {0,2,3}, {0,3,4}, {0,4,5}.
  REQUIRE(streaming(6, 6, 1, 2)->area() == 1 + 2 + 3 + 3 + 3 + 3);
  // DuoAttention's defaults at S = 8192: rows q < 384 see q + 1 keys, later rows 128 + 256.
  const std::int64_t s = 8192;
  const auto m = build_mask({"streaming", {}}, s, s);
  REQUIRE(m->area() == 384 * 385 / 2 + (s - 384) * 384);
  REQUIRE(m->params_json() == R"({"sink":128,"recent":256})");
  // One decode query over a 64K cache sees the 128 sinks and the 256 newest keys.
  REQUIRE(build_mask({"streaming", {}}, 1, 65536)->area() == 384);
}

TEST_CASE("streaming limits: sink 0 is a causal window, huge sink or recent is causal",
          "[masks][streaming]") {
  for (std::int64_t r : {1, 2, 31, 64}) {
    const auto window =
        build_mask({"causal_sliding_window", {{"window", std::to_string(r - 1)}}}, 150, 150)->dense();
    REQUIRE(streaming(150, 150, 0, r)->dense() == window);
  }
  const auto causal = build_mask({"causal", {}}, 150, 170)->dense();
  REQUIRE(streaming(150, 170, 170, 1)->dense() == causal);
  REQUIRE(streaming(150, 170, 0, 170)->dense() == causal);
  REQUIRE(streaming(150, 170, std::int64_t{1} << 40, std::int64_t{1} << 40)->dense() == causal);
}

TEST_CASE("streaming parameters: ranges named in one line", "[masks][streaming][errors]") {
  auto error_of = [](std::map<std::string, std::string> params) -> std::string {
    try {
      build_mask({"streaming", std::move(params)}, 64, 64);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  REQUIRE_THAT(error_of({{"sink", "-1"}}),
               Catch::Contains("'sink'") && Catch::Contains("[0, 1099511627776]"));
  REQUIRE_THAT(error_of({{"recent", "0"}}),
               Catch::Contains("'recent'") && Catch::Contains("[1, 1099511627776]"));
  REQUIRE_THAT(error_of({{"recent", "many"}}), Catch::Contains("'streaming'") && Catch::Contains("integer"));
  REQUIRE_THAT(error_of({{"window", "4"}}), Catch::Contains("accepted: sink, recent"));
  REQUIRE(error_of({{"sink", "0"}, {"recent", "1"}}).empty());
}

TEST_CASE("mask streaming --json: area, resolved sink and recent, slices that sum to the area",
          "[masks][streaming][cli]") {
  MaskCommandOptions o;
  o.name = "streaming";
  o.seqlen = 1000;
  o.params = {"sink=10", "recent=100"};
  o.json = true;
  std::string out;
  REQUIRE(run_mask_command(o, out) == 0);
  const auto j = nlohmann::json::parse(out);
  REQUIRE(j["name"] == "streaming");
  REQUIRE(j["params"]["sink"] == 10);
  REQUIRE(j["params"]["recent"] == 100);
  REQUIRE(j["area"] == streaming(1000, 1000, 10, 100)->area());
  std::int64_t area = 0;
  for (const auto& s : j["slices"]) {
    const Slice slice{s["q"][0], s["q"][1], s["k"][0], s["k"][1],
                      *parse_slice_type(s["type"].get<std::string>())};
    area += slice.area();
  }
  REQUIRE(area == j["area"].get<std::int64_t>());
  const MaskInfo* info = find_mask_info("streaming");
  REQUIRE(info != nullptr);
  REQUIRE(info->params.size() == 2);
  REQUIRE(info->params[0].default_value == "128");
  REQUIRE(info->params[1].default_value == "256");
}
