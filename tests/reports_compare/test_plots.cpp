// Plots: the data and script are always written; PNG files appear when gnuplot is there; a missing gnuplot is
// no failure.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "reports/plots.hpp"
#include "tests/reports_compare/golden.hpp"

using namespace attnbench;
using attnbench::test::read_text;
namespace fs = std::filesystem;

namespace {

ResultRow row(std::string backend, std::string mask, std::int64_t seqlen, double tflops,
              std::string strategy = "none", int world_size = 1, double time_ms = 1.0) {
  ResultRow r;
  r.backend = std::move(backend);
  r.strategy = std::move(strategy);
  r.world_size = world_size;
  r.mask = std::move(mask);
  r.batch = 1;
  r.heads_q = r.heads_kv = 4;
  r.seqlen_q = r.seqlen_k = seqlen;
  r.head_dim = 64;
  r.dtype = "fp32";
  r.pass = "fwd";
  r.tflops = tflops;
  r.time_ms = time_ms;
  return r;
}

std::vector<ResultRow> sweep() {
  std::vector<ResultRow> rows{
      row("cpu.reference", "causal", 256, 0.01),
      row("cpu.reference", "causal", 512, 0.012),
      row("cpu.flash", "causal", 256, 0.05),
      row("cpu.flash", "causal", 512, 0.07),
      row("cpu.flash", "full", 256, 0.06),
      row("cpu.flash", "causal", 1024, 0.0, "ring", 1, 8.0),
      row("cpu.flash", "causal", 1024, 0.0, "ring", 2, 4.5),
      row("cpu.flash", "causal", 1024, 0.0, "ring", 4, 2.6),
  };
  rows.push_back(row("cpu.flash", "causal", 1024, 0.09));
  rows.back().status = Status::oom;  // not ok: not plotted
  return rows;
}

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  return dir;
}

bool is_png(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  char magic[8] = {};
  f.read(magic, 8);
  return std::string(magic + 1, 3) == "PNG";
}

}  // namespace

TEST_CASE("plots: one TFLOP/s plot per mask with a line per backend, one CP time plot") {
  const auto dir = fresh_dir("attnbench_plots_test");
  auto res = write_plots(sweep(), dir, PlotOptions{"none"});
  CHECK(res.planned == 3);
  CHECK_FALSE(res.rendered);
  REQUIRE(fs::exists(dir / "plots/plots.gp"));
  const auto causal = read_text(dir / "plots/tflops_fwd_causal.dat");
  // Lines sorted by backend name, points by sequence length; the oom row is left out.
  CHECK(causal.find("# cpu.flash\n256 0.05\n512 0.07\n\n\n# cpu.reference\n256 0.01\n512 0.012\n") !=
        std::string::npos);
  CHECK(fs::exists(dir / "plots/tflops_fwd_full.dat"));
  CHECK(read_text(dir / "plots/cp_time_fwd_causal.dat")
            .find("# ring (cpu.flash) S=1024\n1 8\n2 4.5\n4 2.6\n") != std::string::npos);
  const auto script = read_text(dir / "plots/plots.gp");
  CHECK(script.find("set output 'tflops_fwd_causal.png'") != std::string::npos);
  CHECK(script.find("index 1 using 1:2 with linespoints lw 2 title 'cpu.reference'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("plots: a missing gnuplot still succeeds and says how to get the plots") {
  const auto dir = fresh_dir("attnbench_plots_missing");
  auto res = write_plots(sweep(), dir, PlotOptions{"/nonexistent/gnuplot"});
  CHECK_FALSE(res.rendered);
  CHECK(res.images.empty());
  CHECK(res.note.find("apt-get install gnuplot-nox") != std::string::npos);
  CHECK(fs::exists(dir / "plots/plots.gp"));
  fs::remove_all(dir);
}

TEST_CASE("plots: nothing ok, nothing to draw") {
  auto rows = sweep();
  for (auto& r : rows) r.status = Status::error;
  auto res = write_plots(rows, fresh_dir("attnbench_plots_empty"), PlotOptions{"none"});
  CHECK(res.planned == 0);
  CHECK(res.note == "plots: no ok rows to plot");
}

TEST_CASE("plots: gnuplot draws every planned PNG") {
  PlotOptions opt;  // gnuplot from PATH
  const auto dir = fresh_dir("attnbench_plots_drawn");
  auto res = write_plots(sweep(), dir, opt);
  if (res.note.find("gnuplot not found") != std::string::npos) {
    WARN("gnuplot is not installed: PNG drawing not checked (apt-get install gnuplot-nox)");
    return;
  }
  INFO(res.note);
  REQUIRE(res.rendered);
  REQUIRE(res.images.size() == 3);
  for (const auto& p : res.images) CHECK(is_png(p));
  fs::remove_all(dir);
}

TEST_CASE("approximate and MQAR rows get a speed-error scatter and a recall-vs-pairs plot",
          "[plots][approx]") {
  std::vector<ResultRow> rows{row("cpu.flash", "causal", 256, 0.05, "none", 1, 2.0),
                              row("cpu.hyper", "causal", 256, 0.05, "none", 1, 1.0)};
  rows[1].extra.push_back({"approx_rel_l2", 0.3, {}});
  for (auto& r : rows) {
    r.extra.push_back({"inputs", ResultRow::nan, R"({"kind":"mqar","pairs":16,"seed":1,"vocab":8192})"});
    r.extra.push_back({"recall", r.backend == "cpu.flash" ? 1.0 : 0.0, {}});
  }
  const auto dir = fresh_dir("attnbench_quality_plots");
  const PlotResult res = write_plots(rows, dir, PlotOptions{"none"});
  const std::string script = read_text(res.script);
  CHECK(script.find("quality_frontier_fwd_causal") != std::string::npos);
  CHECK(script.find("with points ps 1.5 title 'cpu.hyper'") != std::string::npos);
  // Speed-up 2 (the exact row's 2 ms over 1 ms), error 0.3.
  CHECK(read_text(dir / "plots" / "quality_frontier_fwd_causal_B1_H4_D64_fp32.dat").find("2 0.3") !=
        std::string::npos);
  // Recall 0 is a point too (the recall gap), at 16 pairs.
  const std::string recall = read_text(dir / "plots" / "mqar_recall_fwd_causal_B1_H4_D64_fp32_S_256.dat");
  CHECK(recall.find("16 0\n") != std::string::npos);
  CHECK(recall.find("16 1\n") != std::string::npos);
}
