// The `mask` verb: JSON fields, text report, and the .npy dump read back byte by byte.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "attnbench/types.hpp"
#include "attnbench/bias.hpp"
#include "harness/cli/cmd_mask.hpp"
#include "harness/inputs.hpp"
#include "harness/select/select.hpp"
#include "masks/library.hpp"

using namespace attnbench;

TEST_CASE("mask --json reports name, lengths, area, density, slices and resolved parameters",
          "[masks][cli]") {
  MaskCommandOptions o;
  o.name = "causal_document";
  o.seqlen = 1000;
  o.params = {"distribution=uniform:50:300", "seed=3"};
  o.json = true;
  std::string out;
  REQUIRE(run_mask_command(o, out) == 0);
  const auto j = nlohmann::json::parse(out);
  const auto mask =
      build_mask({"causal_document", {{"distribution", "uniform:50:300"}, {"seed", "3"}}}, 1000, 1000);
  REQUIRE(j["name"] == "causal_document");
  REQUIRE(j["seqlen_q"] == 1000);
  REQUIRE(j["seqlen_k"] == 1000);
  REQUIRE(j["area"] == mask->area());
  REQUIRE(j["density"].get<double>() == Approx(mask->density()));
  REQUIRE(j["params"]["seed"] == 3);
  REQUIRE(j["params"]["distribution"]["uniform"]["max"] == 300);
  const auto lengths = j["params"]["doc_lengths"].get<std::vector<std::int64_t>>();
  REQUIRE(std::accumulate(lengths.begin(), lengths.end(), std::int64_t{0}) == 1000);
  REQUIRE(j["slices"].size() == mask->slices().size());
  REQUIRE(j["varlen"]["cu_seqlens"].size() == lengths.size() + 1);
  std::int64_t area = 0;
  for (const auto& s : j["slices"]) {
    const Slice slice{s["q"][0], s["q"][1], s["k"][0], s["k"][1],
                      *parse_slice_type(s["type"].get<std::string>())};
    area += slice.area();
  }
  REQUIRE(area == mask->area());
}

TEST_CASE("mask text output and Sq != Sk", "[masks][cli]") {
  MaskCommandOptions o;
  o.name = "causal";
  o.seqlen = 4;
  o.seqlen_k = 6;
  std::string out;
  run_mask_command(o, out);
  // Bottom-right aligned: rows see 3, 4, 5, 6 keys.
  REQUIRE_THAT(out, Catch::Contains("area      18"));
  REQUIRE_THAT(out, Catch::Contains("4 x 6"));
  REQUIRE_THAT(out, Catch::Contains("q [0, 4)  k [0, 6)  causal"));
}

TEST_CASE("mask --dump writes the dense mask as a |u1 .npy of shape (Sq, Sk)", "[masks][cli]") {
  const auto path = std::filesystem::temp_directory_path() / "attnbench_test_mask_dump.npy";
  MaskCommandOptions o;
  o.name = "sliding_window";
  o.seqlen = 37;
  o.seqlen_k = 50;
  o.params = {"window=5"};
  o.dump = path.string();
  std::string out;
  run_mask_command(o, out);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  const std::string header = bytes.substr(10, header_len);
  REQUIRE_THAT(header, Catch::Contains("'descr': '|u1'"));
  REQUIRE_THAT(header, Catch::Matches(".*'shape': \\(37, ?50\\).*\n?", Catch::CaseSensitive::Yes));
  REQUIRE((10 + header_len) % 64 == 0);
  const auto dense = build_mask({"sliding_window", {{"window", "5"}}}, 37, 50)->dense();
  REQUIRE(bytes.size() == 10 + header_len + dense.size());
  REQUIRE(
      std::equal(dense.begin(), dense.end(), bytes.begin() + 10 + static_cast<std::ptrdiff_t>(header_len)));
}

TEST_CASE("mask command errors name the mask and the parameter", "[masks][cli]") {
  MaskCommandOptions o;
  o.name = "sliding_window";
  o.seqlen = 100;
  o.params = {"window"};
  std::string out;
  REQUIRE_THROWS_WITH(run_mask_command(o, out), Catch::Contains("--param 'window' must be key=value"));
  o.params = {"window=-4"};
  REQUIRE_THROWS_AS(run_mask_command(o, out), InputError);
  o.params = {};
  o.seqlen = 1 << 20;
  o.dump = "/tmp/never.npy";
  REQUIRE_THROWS_WITH(run_mask_command(o, out), Catch::Contains("--dump needs"));
}

TEST_CASE("mask SELECTOR --bias selects with the bias the run would add, and static masks refuse it",
          "[masks][cli]") {
  MaskCommandOptions o;
  o.name = "topk_blocks";
  o.seqlen = 1024;
  o.params = {"keep=0.3"};
  o.json = true;
  // The command's selection, and the library's for the same inputs (seed 0) and bias.
  const auto selected = [&](const std::string& bias) {
    o.bias = bias;
    std::string out;
    REQUIRE(run_mask_command(o, out) == 0);
    const auto j = nlohmann::json::parse(out);
    REQUIRE(j["bias"] == (bias.empty() ? "none" : bias));
    Problem p;
    p.shape = {1, 1, 1, 1024, 1024, 64};
    p.mask = build_mask({"topk_blocks", {{"keep", "0.3"}}}, 1024, 1024);
    p.softmax_scale = 0.125;
    if (!bias.empty()) p.bias = build_bias({bias, {}}, 1, 1024, 1024, 0);
    const auto masks = select_masks(p, generate_inputs(p));
    REQUIRE(j["heads"][0]["area"] == masks[0]->area());
    REQUIRE(j["heads"][0]["slices"].size() == masks[0]->slices().size());
    return masks[0];
  };
  const MaskPtr plain = selected("");
  const MaskPtr alibi = selected("alibi");
  // ALiBi's slope 1/256 for one head costs 0.25 per 64 keys, far above the pooled scores' spread on
  // random inputs (~0.02): each query block keeps the key blocks nearest its diagonal; without the
  // bias it keeps others.
  bool differs = false;
  for (std::int64_t t = 0; t < 16; ++t) {
    const auto want = std::max<std::int64_t>(1, std::llround(0.3 * static_cast<double>(t + 1)));
    for (std::int64_t b = 0; b < t; ++b) {  // the first row of the query block, the first key of block b
      INFO("query block " << t << " key block " << b);
      CHECK(alibi->allowed(t * 64, b * 64) == (b > t - want));
      differs = differs || plain->allowed(t * 64, b * 64) != (b > t - want);
    }
  }
  CHECK(differs);
  o.name = "causal";
  o.params = {};
  o.bias = "alibi";
  std::string out;
  REQUIRE_THROWS_WITH(run_mask_command(o, out), Catch::Contains("apply to selectors only"));
  o.name = "topk_blocks";
  o.bias = "relpos";
  o.bias_params = {"max_distance"};
  REQUIRE_THROWS_WITH(run_mask_command(o, out),
                      Catch::Contains("--bias-param 'max_distance' must be key=value"));
}
