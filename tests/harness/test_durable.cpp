// Checked and atomic writes, the resume reader's handling of a cut last line, the row set, the single-rank
// agreement.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/agreement.hpp"
#include "harness/comm/world.hpp"
#include "reports/csv_writer.hpp"
#include "reports/durable_file.hpp"
#include "reports/folder_results.hpp"
#include "reports/row_set.hpp"

#include "tests/harness/files_test_util.hpp"

namespace fs = std::filesystem;
using namespace attnbench;

namespace {

using test::slurp;

fs::path fresh_dir(const std::string& name) { return test::fresh_temp_dir(name); }

ResultRow row(const std::string& backend, std::int64_t seqlen, const std::string& message = "") {
  ResultRow r;
  r.backend = backend;
  r.mask = "causal";
  r.seqlen_q = r.seqlen_k = seqlen;
  r.message = message;
  return r;
}

}  // namespace

TEST_CASE("write_file_atomic replaces a file whole and leaves no temporary file", "[durable]") {
  const fs::path d = fresh_dir("durable-atomic");
  write_file_atomic((d / "a.json").string(), "old\n");
  write_file_atomic((d / "a.json").string(), "new\n");
  CHECK(slurp(d / "a.json") == "new\n");
  CHECK_FALSE(fs::exists(d / "a.json.tmp"));
  // A folder that does not exist: OutputError (exit 2) naming the path.
  CHECK_THROWS_AS(write_file_atomic((d / "no" / "a.json").string(), "x"), OutputError);
  CHECK_THROWS_WITH(write_file_atomic((d / "no" / "a.json").string(), "x"),
                    Catch::Contains("no/a.json.tmp: cannot create: No such file or directory"));
  fs::remove_all(d);
}

TEST_CASE("a full device is an OutputError naming the file, for appends and checked writes", "[durable]") {
  if (!fs::exists("/dev/full")) return;  // Linux: every write fails with ENOSPC
  AppendFile f("/dev/full");
  CHECK_THROWS_WITH(f.append("a row\n"), "/dev/full: cannot write: No space left on device");
  CHECK_THROWS_WITH(write_file_checked("/dev/full", {"q.npy bytes"}),
                    "/dev/full: cannot write: No space left on device");
}

TEST_CASE("probe_output_dir creates the folder and refuses a path under a file", "[durable]") {
  const fs::path d = fresh_dir("durable-probe");
  probe_output_dir((d / "x" / "y").string(), "--out");
  CHECK(fs::is_directory(d / "x" / "y"));
  CHECK(fs::is_empty(d / "x" / "y"));  // the probe file is gone
  std::ofstream(d / "file") << "x";
  CHECK_THROWS_WITH(probe_output_dir((d / "file" / "out").string(), "--out"),
                    Catch::Contains("file/out: --out folder cannot be created"));
  fs::remove_all(d);
}

TEST_CASE("the resume reader drops a cut last CSV line and refuses a cut header", "[durable]") {
  const fs::path d = fresh_dir("durable-folder");
  std::string text = CsvWriter::header() + "\n" + CsvWriter::format_row(row("a", 64)) + "\n";
  std::ofstream(d / "results.csv") << text << CsvWriter::format_row(row("b", 64)).substr(0, 30);
  const FolderResults f = read_folder_results(d.string());
  REQUIRE(f.rows.size() == 1);
  CHECK(f.rows[0].backend == "a");
  CHECK(f.cut_bytes == 30);
  // A quoted cell holding a newline is part of its row, not a line end.
  std::ofstream(d / "results.csv", std::ios::trunc)
      << text << CsvWriter::format_row(row("c", 8, "two\nlines")) << "\n";
  CHECK(read_folder_results(d.string()).rows.size() == 2);
  std::ofstream(d / "results.csv", std::ios::trunc) << CsvWriter::header().substr(0, 25);
  CHECK_THROWS_WITH(read_folder_results(d.string()),
                    Catch::Contains("results.csv: the header line is cut short"));
  fs::remove_all(d);
}

TEST_CASE("the folder's scenario comes from the sidecar", "[durable]") {
  const fs::path d = fresh_dir("durable-scenario");
  CHECK(read_folder_scenario(d.string(), true).name.empty());
  write_folder_scenario(d.string(), {"alpha", scenario_fingerprint("name: alpha\n"), ""});
  const FolderScenario s = read_folder_scenario(d.string(), true);
  CHECK(s.name == "alpha");
  CHECK(s.fingerprint == scenario_fingerprint("name: alpha\n"));
  CHECK(s.fingerprint != scenario_fingerprint("name: alpha\nseqlens: [1]\n"));
  fs::remove_all(d);
}

TEST_CASE("a row set keeps folder order and replaces a case's row in place", "[durable]") {
  RowSet set({row("a", 64), row("b", 64)});
  CHECK_FALSE(set.add(row("c", 64)));
  CHECK(set.add(row("a", 64, "rerun")));
  REQUIRE(set.size() == 3);
  CHECK(set.rows()[0].message == "rerun");
  CHECK(set.rows()[2].backend == "c");
}

TEST_CASE("outcomes map exceptions to exit codes, and one rank agrees with itself", "[durable]") {
  CHECK(outcome_of([] { throw OutputError("p: cannot write"); }).exit_code == 2);
  CHECK(outcome_of([] { throw std::runtime_error("x"); }).exit_code == 1);
  CHECK(outcome_of([] { throw 42; }).exit_code == 1);
  CHECK_FALSE(outcome_of([] {}));
  const Outcome o = agree_outcome(comm::world(), {143, "interrupted by SIGTERM"});
  CHECK(o.exit_code == 143);
  CHECK(o.message == "interrupted by SIGTERM");
}
