// End-to-end runs with separate K and V heads and a V head dim of its own: dumped tensor shapes and
// --resume of a results file written before the heads_k, heads_v and head_dim_v columns.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/cli/cli.hpp"
#include "reports/csv_reader.hpp"
#include "reports/csv_writer.hpp"
#include "tests/harness/files_test_util.hpp"

namespace fs = std::filesystem;
using namespace attnbench;

namespace {

int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "attnbench");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

std::string npy_header(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string head(128, '\0');
  in.read(head.data(), 128);
  return head;
}

const char* kv_scenario = R"(
name: kv
backends: [cpu.reference, cpu.flash]
masks: [causal]
seqlens: [40]
seqlens_k: [56]
shape: {batch: 1, heads_q: 4, heads_k: 1, heads_v: 2, head_dim: 8, head_dim_v: 12}
passes: [fwd, bwd]
timing: {warmup: 0, min_iters: 2, max_iters: 3, min_time_s: 0, max_noise_pct: 100, timeout_s: 5}
)";

}  // namespace

TEST_CASE("dumps with separate K/V heads and dims have the contract's shapes", "[cli][dump][kvdims]") {
  const fs::path dir = test::fresh_temp_dir("kv_dump");
  std::ofstream(dir / "s.yaml") << kv_scenario;
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", (dir / "out").string(), "--quiet", "--dump-tensors",
               (dir / "dump").string(), "--filter", "cpu.flash*"}) == 0);
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir / "dump")) cases.push_back(e.path());
  REQUIRE(cases.size() == 2);  // fwd and bwd
  for (const auto& c : cases) {
    const auto j = nlohmann::json::parse(test::slurp(c / "case.json"));
    CHECK(j["heads_kv"] == 1);
    CHECK(j["heads_k"] == 1);
    CHECK(j["heads_v"] == 2);
    CHECK(j["head_dim_v"] == 12);
    CHECK(npy_header(c / "q.npy").find("'shape': (1, 40, 4, 8)") != std::string::npos);
    CHECK(npy_header(c / "k.npy").find("'shape': (1, 56, 1, 8)") != std::string::npos);
    CHECK(npy_header(c / "v.npy").find("'shape': (1, 56, 2, 12)") != std::string::npos);
    CHECK(npy_header(c / "o.npy").find("'shape': (1, 40, 4, 12)") != std::string::npos);
    if (j["pass"] == "bwd") {
      CHECK(npy_header(c / "do.npy").find("'shape': (1, 40, 4, 12)") != std::string::npos);
      CHECK(npy_header(c / "dq.npy").find("'shape': (1, 40, 4, 8)") != std::string::npos);
      CHECK(npy_header(c / "dk.npy").find("'shape': (1, 56, 1, 8)") != std::string::npos);
      CHECK(npy_header(c / "dv.npy").find("'shape': (1, 56, 2, 12)") != std::string::npos);
    }
  }
  // The rows: ok against the reference, the new columns filled, FLOPs with D + Dv.
  const auto rows = read_results_csv((dir / "out" / "results.csv").string());
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) {
    CHECK(r.status == Status::ok);
    CHECK(row_heads_k(r) == 1);
    CHECK(row_heads_v(r) == 2);
    CHECK(row_head_dim_v(r) == 12);
  }
}

TEST_CASE("run --resume keeps rows of a file written before heads_k, heads_v and head_dim_v",
          "[cli][kvdims]") {
  const fs::path dir = test::fresh_temp_dir("kv_resume");
  std::ofstream(dir / "s.yaml")
      << "name: old\nbackends: [cpu.reference]\nmasks: [full, causal]\nseqlens: [32]\n"
         "shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}\n"
         "timing: {warmup: 0, min_iters: 2, max_iters: 3, min_time_s: 0, "
         "max_noise_pct: 100, timeout_s: 5}\n";
  const std::string out = (dir / "out").string();
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", out, "--quiet", "--filter", "*full*"}) == 0);
  // Rewrite results.csv as an older build wrote it: no heads_k, heads_v, head_dim_v columns.
  std::ifstream in(dir / "out" / "results.csv");
  std::string header, line, text;
  std::getline(in, header);
  std::vector<std::string> names;
  std::stringstream hs(header);
  for (std::string n; std::getline(hs, n, ',');) names.push_back(n);
  auto drop = [&](const std::string& row, bool data) {  // no quoted commas in these rows but mask_params "{}"
    std::vector<std::string> cells;
    std::stringstream rs(row);
    for (std::string c; std::getline(rs, c, ',');) cells.push_back(c);
    if (!row.empty() && row.back() == ',') cells.push_back("");
    std::string kept;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "heads_k" || names[i] == "heads_v" || names[i] == "head_dim_v") continue;
      std::string cell = i < cells.size() ? cells[i] : "";
      if (data && names[i] == "message") cell = "from the old file";
      kept += (kept.empty() ? "" : ",") + cell;
    }
    return kept;
  };
  text = drop(header, false) + "\n";
  for (; std::getline(in, line);) text += drop(line, true) + "\n";
  in.close();
  REQUIRE(text.find("heads_v") == std::string::npos);
  std::ofstream(dir / "out" / "results.csv", std::ios::trunc) << text;
  fs::remove(dir / "out" / "results.json");

  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", out, "--quiet", "--resume"}) == 0);
  const auto json = nlohmann::json::parse(test::slurp(dir / "out" / "results.json"));
  REQUIRE(json["results"].size() == 2);
  int kept_rows = 0;
  for (const auto& r : json["results"]) kept_rows += r["message"] == "from the old file";
  CHECK(kept_rows == 1);  // the full row paired with its case; only causal ran
}
