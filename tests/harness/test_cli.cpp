// End-to-end CLI runs in-process: reports written, exit codes, --dump-tensors output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/cli/cli.hpp"

namespace fs = std::filesystem;
using namespace attnbench;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("attnbench-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "attnbench");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* small_scenario = R"(
name: e2e
backends: [cpu.reference]
masks: [full, causal]
seqlens: [48]
seqlens_k: [64]
shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}
passes: [fwd, bwd]
timing: {warmup: 0, min_iters: 2, max_iters: 3, min_time_s: 0, max_noise_pct: 100, timeout_s: 5}
)";

// Reads a NumPy .npy header and returns its dict text.
std::string npy_header(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  char magic[8];
  in.read(magic, 8);
  REQUIRE(std::string(magic, 6) == "\x93NUMPY");
  unsigned char len[2];
  in.read(reinterpret_cast<char*>(len), 2);
  std::string header(len[0] | (len[1] << 8), ' ');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  CHECK((10 + header.size()) % 64 == 0);
  return header;
}

}  // namespace

TEST_CASE("run writes CSV, JSON and Markdown with ok rows", "[cli]") {
  const fs::path dir = temp_dir("run");
  std::ofstream(dir / "s.yaml") << small_scenario;
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", (dir / "out").string(), "--quiet"}) == 0);
  const auto json = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  CHECK(json["schema_version"] == 1);
  CHECK(json["context"]["tool"] == "attnbench");
  CHECK(json["context"]["scenario"].get<std::string>().find("name: e2e") != std::string::npos);
  REQUIRE(json["results"].size() == 4);
  for (const auto& r : json["results"]) {
    CHECK(r["status"] == "ok");
    CHECK(r["rel_l2_err"].get<double>() < 1e-6);
    CHECK(r["seqlen_k"] == 64);
    CHECK(r["tflops"].get<double>() > 0);
  }
  const std::string csv = slurp(dir / "out" / "results.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  CHECK(slurp(dir / "out" / "results.md").find("| 48×64 |") != std::string::npos);
}

TEST_CASE("run with a filter turns the other cases into skipped rows", "[cli]") {
  const fs::path dir = temp_dir("filter");
  std::ofstream(dir / "s.yaml") << small_scenario;
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", (dir / "out").string(), "--quiet", "--filter",
               "*causal*fwd"}) == 0);
  const auto json = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  int ok = 0, skipped = 0;
  for (const auto& r : json["results"]) (r["status"] == "ok" ? ok : skipped)++;
  CHECK(ok == 1);
  CHECK(skipped == 3);
}

TEST_CASE("bad input exits with 2 before any case runs", "[cli]") {
  const fs::path dir = temp_dir("bad");
  std::ofstream(dir / "s.yaml") << "backends: [cpu.nope]\nmasks: [full]\nseqlens: [8]\n";
  CHECK(cli({"run", (dir / "s.yaml").string(), "--out", (dir / "out").string()}) == 2);
  CHECK_FALSE(fs::exists(dir / "out" / "results.csv"));
  CHECK(cli({"run", (dir / "missing.yaml").string()}) == 2);
  CHECK(cli({"run", (dir / "s.yaml").string(), "--set", "novalue"}) == 2);
  CHECK(cli({"list", "colours"}) == 2);
  CHECK(cli({"frobnicate"}) == 2);
  // An invalid strategy option: exit 2 at expansion, also in a dry run, and nothing written.
  std::ofstream(dir / "cp.yaml") << "backends: [cpu.reference]\nstrategies: [ring]\nmasks: [causal]\n"
                                    "seqlens: [64]\noptions: {balance: weird}\n";
  CHECK(cli({"run", (dir / "cp.yaml").string(), "--dry-run"}) == 2);
  CHECK(cli({"run", (dir / "cp.yaml").string(), "--out", (dir / "cp_out").string()}) == 2);
  CHECK_FALSE(fs::exists(dir / "cp_out" / "results.csv"));
}

TEST_CASE("run with dump-tensors writes case.json and .npy files by the contract", "[cli][dump]") {
  const fs::path dir = temp_dir("dump");
  std::ofstream(dir / "s.yaml") << small_scenario;
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", (dir / "out").string(), "--quiet", "--dump-tensors",
               (dir / "dump").string(), "--filter", "*causal*"}) == 0);
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir / "dump")) cases.push_back(e.path());
  REQUIRE(cases.size() == 2);  // causal fwd and bwd
  for (const auto& c : cases) {
    const auto j = nlohmann::json::parse(slurp(c / "case.json"));
    CHECK(j["mask"] == "causal");
    CHECK(j["seqlen_q"] == 48);
    CHECK(j["heads_kv"] == 1);
    CHECK(npy_header(c / "q.npy").find("'descr': '<f4', 'fortran_order': False, 'shape': (1, 48, 2, 8)") !=
          std::string::npos);
    CHECK(npy_header(c / "k.npy").find("'shape': (1, 64, 1, 8)") != std::string::npos);
    CHECK(npy_header(c / "lse.npy").find("'shape': (1, 2, 48)") != std::string::npos);
    CHECK(npy_header(c / "mask.npy").find("'descr': '|u1', 'fortran_order': False, 'shape': (48, 64)") !=
          std::string::npos);
    CHECK(fs::file_size(c / "mask.npy") == 128 + 48 * 64);
    const bool bwd = j["pass"] == "bwd";
    CHECK(fs::exists(c / "dq.npy") == bwd);
    CHECK(fs::exists(c / "do.npy") == bwd);
    CHECK(fs::exists(c / "o.npy"));  // a bwd case dumps the forward o/lse it consumed
  }
}

TEST_CASE("run with resume keeps finished rows and runs only the missing cases", "[cli]") {
  const fs::path dir = temp_dir("resume");
  std::ofstream(dir / "s.yaml") << small_scenario;
  const std::string out = (dir / "out").string();
  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", out, "--quiet", "--filter", "*full*"}) == 0);
  // Mark the finished rows so we can tell a kept row from a rerun one, and drop the
  // filtered-out (`skipped`) rows so that resume runs those cases.
  auto json = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  nlohmann::json kept = json;
  kept["results"] = nlohmann::json::array();
  for (auto& r : json["results"])
    if (r["status"] == "ok") {
      r["message"] = "from the first run";
      kept["results"].push_back(r);
    }
  std::ofstream(dir / "out" / "results.json") << kept.dump();

  REQUIRE(cli({"run", (dir / "s.yaml").string(), "--out", out, "--quiet", "--resume"}) == 0);
  json = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  REQUIRE(json["results"].size() == 4);
  int kept_rows = 0;
  for (const auto& r : json["results"]) {
    CHECK(r["status"] == "ok");
    kept_rows += r["message"] == "from the first run";
  }
  CHECK(kept_rows == 2);
}

TEST_CASE("list and mask verbs answer and reject unknown names", "[cli]") {
  CHECK(cli({"list", "distributions"}) == 0);
  CHECK(cli({"list", "masks"}) == 0);
  CHECK(cli({"mask", "causal", "--seqlen", "16"}) == 0);
  CHECK(cli({"mask", "spiral", "--seqlen", "16"}) == 2);
}
