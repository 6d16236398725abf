// The Python bridge: NumPy backends match cpu.reference, Python errors become rows, protocol breaches exit 2.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "attnbench/registry.hpp"
#include "backends/python/interpreter.hpp"
#include "backends/python/native_module.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "harness/scenario.hpp"
#include "masks/library.hpp"
#include "tests/backends/python/bridge_test_util.hpp"

using namespace attnbench;
using attnbench::test::run_scenario_text;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Masks beyond full/causal join the sweep when the mask library has them.
std::string extra_masks() {
  std::string out;
  const std::pair<const char*, const char*> candidates[] = {
      {"sliding_window", "{name: sliding_window, window: 17}"},
      {"causal_document", "{name: causal_document, doc_lengths: [40, 7, 49]}"},
      {"share_question", "{name: share_question, doc_lengths: [20, 30, 46]}"},
      {"block_sparse", "{name: block_sparse, block: 16, keep: 0.3, seed: 3}"},
  };
  for (const auto& [name, yaml] : candidates)
    if (find_mask_info(name) != nullptr) out += fmt::format("  - {}\n", yaml);
  return out;
}

// Every row ran and matched the float64 reference within fp32 tolerance.
void check_all_ok_and_close(const std::vector<ResultRow>& rows) {
  for (const auto& r : rows) {
    INFO(r.backend << " " << r.mask << " " << r.dtype << " " << r.pass << ": " << r.message);
    CHECK(r.status == Status::ok);
    CHECK(r.rel_l2_err < 1e-5);
  }
}

// Runs one backend through the Backend interface (prepare, run, fetch_outputs).
Outputs run_backend(const std::string& name, const Problem& p, const Inputs& in) {
  Backend* b = Registry::instance().find_backend(name);
  REQUIRE(b != nullptr);
  const Support s = b->supports(p);
  INFO(s.reason);
  REQUIRE(s.ok);
  MemoryTracker mem;
  Resources res{&mem, &mem, nullptr, 0};
  auto exec = b->prepare(p, in, res);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

}  // namespace

TEST_CASE("numpy.reference through the bridge matches cpu.reference forward and backward on several masks",
          "[python]") {
  const std::string yaml =
      "name: numpy_vs_reference\n"
      "backends: [numpy.reference, 'python:../../../backends/python/modules/numpy_reference.py']\n"
      "masks:\n  - full\n  - causal\n" +
      extra_masks() +
      "seqlens: [96]\n"
      "shape: {batch: 2, heads_q: 4, heads_kv: 2, head_dim: 16}\n"
      "passes: [fwd, bwd, fwd_bwd]\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 2, min_time_s: 0}\n";
  const auto rows = run_scenario_text(yaml);
  REQUIRE(rows.size() >= 2 * 3);
  check_all_ok_and_close(rows);
  for (const auto& r : rows) {
    INFO(r.backend << " " << r.mask << " " << r.pass);
    CHECK(r.backend == "numpy.reference");  // the path names the shipped module: one backend
    CHECK(r.time_ms > 0);
  }
}

TEST_CASE("numpy.reference runs masks per (batch, head): dynamic selectors and per_head groups",
          "[python][head_masks]") {
  // test.run_protocol wraps the same NumPy code but does not declare head_masks: it must decline.
  const auto rows = run_scenario_text(
      "name: head_masks\nbackends: [numpy.reference, 'python:modules/run_protocol.py']\nmasks:\n"
      "  - {name: topk_blocks, block: 16, keep: 0.3}\n"
      "  - {name: kmeans, block: 16, clusters: 4, iters: 3}\n"
      "  - {name: per_head, groups: [{mask: causal, fraction: 0.5}, "
      "{mask: {name: streaming, sink: 8, recent: 16}}]}\n"
      "seqlens: [64]\nshape: {batch: 2, heads_q: 4, heads_kv: 2, head_dim: 16}\npasses: [fwd, bwd]\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 2 * 3 * 2);
  int ok = 0;
  for (const auto& r : rows) {
    INFO(r.backend << " " << r.mask << " " << r.pass << ": " << r.message);
    if (r.backend == "numpy.reference") {
      // Checked in float64 against the reference under the selected (or per-head) masks.
      CHECK(r.status == Status::ok);
      CHECK(r.rel_l2_err < 1e-5);
      ok += r.status == Status::ok ? 1 : 0;
    } else {
      CHECK(r.status == Status::unsupported);
      CHECK_THAT(r.message, Catch::Contains("test.run_protocol: masks that differ per batch element or head "
                                            "not supported"));
    }
  }
  CHECK(ok == 3 * 2);
}

TEST_CASE("numpy.reference runs a padded batch (one mask per sequence, empty padded query rows)",
          "[python][head_masks]") {
  const auto rows = run_scenario_text(
      "name: padded\nbackends: [numpy.reference]\nmasks: [causal, full]\n"
      "batching: {lengths: [40, 64, 23], layout: [padded]}\n"
      "shape: {heads_q: 4, heads_kv: 2, head_dim: 16}\npasses: [fwd, bwd, fwd_bwd]\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 2 * 3);
  check_all_ok_and_close(rows);
}

TEST_CASE("numpy.reference matches cpu.reference with Sq != Sk (bottom-right causal)", "[python]") {
  const auto rows = run_scenario_text(
      "name: cross\nbackends: [numpy.reference]\nmasks: [causal, full]\n"
      "seqlens: [48]\nseqlens_k: [80]\nshape: {batch: 1, heads_q: 3, heads_kv: 1, head_dim: 8}\n"
      "passes: [fwd, bwd]\ntiming: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 4);
  check_all_ok_and_close(rows);
}

TEST_CASE("rows with no allowed key give O = 0 and LSE = -inf through the bridge", "[python]") {
  // Queries [0, 16) see nothing: the slices start at row 16.
  const std::int64_t sq = 48, sk = 48;
  std::vector<Slice> slices{{16, 32, 0, 32, SliceType::causal}, {32, 48, 8, 48, SliceType::full}};
  auto pred = [](std::int64_t q, std::int64_t k) {
    if (q >= 16 && q < 32) return k < 32 && k <= q;
    if (q >= 32) return k >= 8;
    return false;
  };
  Problem p;
  p.shape = {1, 2, 2, sq, sk, 8};
  p.pass = Pass::fwd_bwd;
  p.mask = std::make_shared<Mask>("holes", sq, sk, std::vector<std::pair<std::string, std::string>>{}, slices,
                                  pred);
  p.softmax_scale = 1.0 / std::sqrt(8.0);
  p.seed = 11;
  const Inputs in = generate_inputs(p);
  const Outputs ref = run_backend("cpu.reference", p, in);
  const Outputs got = run_backend("numpy.reference", p, in);
  REQUIRE(got.lse.size() == ref.lse.size());
  CHECK(std::isinf(got.lse[0]));
  CHECK(got.lse[0] < 0);
  CHECK(got.o[0] == 0.0f);
  const CheckResult c = compare_outputs(got, ref, p.pass, 1e-5, 1e-5);
  INFO(c.worst << " " << c.rel_l2_err);
  CHECK(c.passed);
}

TEST_CASE("a Python exception inside a backend becomes an error row carrying the Python message",
          "[python]") {
  const auto rows = run_scenario_text(
      "name: raising\nbackends: ['python:modules/raising.py', 'python:modules/raising_supports.py', "
      "numpy.reference]\nmasks: [causal]\nseqlens: [32]\n"
      "shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}\n"
      "timing: {warmup: 1, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].backend == "test.raising");
  CHECK(rows[0].status == Status::error);
  CHECK_THAT(rows[0].message, Catch::Contains("ValueError: kernel exploded on purpose"));
  CHECK_THAT(rows[0].message, Catch::Contains("raising.py"));
  CHECK(rows[1].status == Status::error);
  CHECK_THAT(rows[1].message, Catch::Contains("RuntimeError: supports is broken on purpose"));
  CHECK(rows[2].status == Status::ok);  // the sweep goes on
}

TEST_CASE("supports() reasons become unsupported rows, wrong output layouts become error rows", "[python]") {
  const auto rows = run_scenario_text(
      "name: declines\nbackends: ['python:modules/declines.py', 'python:modules/wrong_shape.py']\n"
      "masks: [causal, full]\nseqlens: [32]\n"
      "shape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 8}\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].status == Status::unsupported);
  CHECK(rows[0].message == "no causal today");
  CHECK(rows[1].status == Status::error);
  CHECK_THAT(rows[1].message, Catch::Contains("o has shape (1, 2, 32, 8)"));
  CHECK_THAT(rows[1].message, Catch::Contains("[B, Sq, Hq, D] = (1, 32, 2, 8)"));
  CHECK(rows[2].status == Status::ok);
}

TEST_CASE("Python modules refuse separate K/V heads and dims with the reason", "[python][kvdims]") {
  const auto rows = run_scenario_text(
      "name: kv\nbackends: [numpy.reference]\nmasks: [causal]\nseqlens: [32]\n"
      "shape: {batch: 1, heads_q: 4, heads_k: 1, heads_v: [1, 2], head_dim: 8, head_dim_v: [8, 16]}\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].status == Status::ok);  // K and V alike
  CHECK(rows[1].status == Status::unsupported);
  CHECK(rows[1].message ==
        "numpy.reference: head_dim_v != head_dim not supported (head_dim 8, head_dim_v 16)");
  CHECK(rows[2].status == Status::unsupported);
  CHECK(rows[2].message == "numpy.reference: heads_k != heads_v not supported (heads_k 1, heads_v 2)");
}

TEST_CASE("inputs reach Python as read-only views of the harness's buffers, not copies", "[python]") {
  const auto rows = run_scenario_text(
      "name: zero_copy\nbackends: ['python:modules/zero_copy.py']\nmasks: [causal]\nseqlens: [32]\n"
      "shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}\npasses: [fwd, bwd]\n"
      "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) {
    INFO(r.pass << ": " << r.message);
    CHECK(r.status == Status::ok);
  }
}

TEST_CASE("a module that breaks the protocol is rejected with the file and what is missing", "[python]") {
  const std::pair<const char*, const char*> cases[] = {
      {"no_prepare.py", "missing function prepare(case, q, k, v, dout, mask)"},
      {"not_a_dict.py", "describe() must return a dict"},
      {"unknown_key.py", "unknown key 'colour'"},
      {"head_masks_not_bool.py", "describe()['head_masks'] must be True or False"},
      {"no_backward.py", "lists pass bwd but the module defines no backward(state)"},
      {"syntax_error.py", "SyntaxError"},
      {"does_not_exist.py", "no such file"},
  };
  for (const auto& [file, expected] : cases) {
    const std::string yaml =
        fmt::format("name: bad\nbackends: ['python:modules/{}']\nmasks: [full]\nseqlens: [16]\n", file);
    INFO(file);
    try {
      parse_scenario(yaml, attnbench::test::bridge_test_dir() + "/inline.yaml");
      FAIL("no InputError");
    } catch (const InputError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(expected));
      CHECK_THAT(std::string(e.what()), Catch::Contains(file));
    }
  }
}

TEST_CASE("the CLI exits 2 on a module that breaks the protocol and 0 on a good one", "[python][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("attnbench_python_cli_{}", ::getpid());
  fs::create_directories(dir);
  const std::string modules = attnbench::test::bridge_test_dir() + "/modules";
  std::ofstream(dir / "bad.yaml") << "name: bad\nbackends: ['python:" << modules
                                  << "/no_prepare.py']\nmasks: [full]\nseqlens: [16]\n";
  std::ofstream(dir / "good.yaml")
      << "name: good\nbackends: [cpu.reference, 'python:" << ATTNBENCH_SOURCE_DIR
      << "/backends/python/modules/numpy_reference.py']\nmasks: [causal]\nseqlens: [32]\n"
         "shape: {batch: 1, heads_q: 2, heads_kv: 1, head_dim: 8}\npasses: [fwd, bwd]\n"
         "timing: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n";
  const auto run = [&](const std::string& name) {
    const std::string cmd =
        fmt::format("{} run {} --out {} >{} 2>&1", ATTNBENCH_BINARY, (dir / (name + ".yaml")).string(),
                    (dir / name).string(), (dir / (name + ".log")).string());
    const int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  CHECK(run("bad") == 2);
  const std::string bad_log = slurp((dir / "bad.log").string());
  CHECK_THAT(bad_log, Catch::Contains("no_prepare.py: does not follow the backend protocol"));
  CHECK(run("good") == 0);
  const std::string csv = slurp((dir / "good" / "results.csv").string());
  INFO(csv);
  CHECK_THAT(csv, Catch::Contains("numpy.reference,none,1,causal"));
  CHECK(csv.find(",error,") == std::string::npos);
  CHECK(csv.find(",mismatch,") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE(
    "the shipped modules' NumPy pieces: Flex block tables, FlashAttention cu_seqlens and windows, venv notes",
    "[python]") {
  namespace py = pybind11;
  python::ensure_interpreter();
  py::gil_scoped_acquire gil;
  try {
    py::module_ checks =
        python::import_file(attnbench::test::bridge_test_dir() + "/modules/check_helpers.py");
    // Tile sizes that do not divide S, so short edge tiles are covered too.
    for (const char* name : {"full", "causal"}) {
      const MaskPtr m = build_mask({name, {}}, 100, 100);
      const int tiles =
          checks.attr("flex_tables_rebuild_the_block_map")(python::mask_object(m), 16, 24).cast<int>();
      CHECK(tiles > 0);
    }
    // Heterogeneous masks too, when the library has them (tiles straddle document edges).
    const std::pair<const char*, const char*> documents[] = {{"causal_document", "[40, 7, 53]"},
                                                             {"share_question", "[20, 30, 50]"}};
    for (const auto& [name, lengths] : documents)
      if (find_mask_info(name) != nullptr) {
        const MaskPtr m = build_mask({name, {{"doc_lengths", lengths}}}, 100, 100);
        CHECK(checks.attr("flex_tables_rebuild_the_block_map")(python::mask_object(m), 16, 24).cast<int>() >
              0);
      }
    const MaskPtr cross = build_mask({"causal", {}}, 40, 100);
    CHECK(checks.attr("flex_tables_rebuild_the_block_map")(python::mask_object(cross), 16, 16).cast<int>() >
          0);
    // Masks per (b, h) for Flex: each mask's tables and tile lookup, on ragged tiles (100 = 6·16 + 4).
    {
      py::list views;
      for (const MaskSpec& spec :
           {MaskSpec{"causal", {}}, MaskSpec{"sliding_window", {{"window", "9"}}}, MaskSpec{"full", {}},
            MaskSpec{"causal_document", {{"doc_lengths", "[40, 7, 53]"}}}})
        if (find_mask_info(spec.name) != nullptr)
          views.append(python::mask_object(build_mask(spec, 100, 100)));
      CHECK(checks.attr("flex_head_tiles_rebuild_the_masks")(views, 16).cast<int>() > 0);
      const MaskPtr a = build_mask({"causal", {}}, 40, 56), b = build_mask({"full", {}}, 40, 56);
      CHECK(checks.attr("head_mask_layouts")(python::mask_object(a), python::mask_object(b)).cast<bool>());
    }
    CHECK(checks.attr("flash_cu_seqlens_repeat_per_batch")().cast<bool>());
    CHECK(checks.attr("flash_windows")().cast<bool>());
    CHECK(checks.attr("fa4_windows_use_none")().cast<bool>());
    // FlashInfer's block-sparse input: full blocks only (causal's diagonal is partial) and mixed documents.
    for (const MaskSpec& spec : {MaskSpec{"full", {}}, MaskSpec{"causal", {}},
                                 MaskSpec{"causal_document", {{"doc_lengths", "[40, 7, 81]"}}}}) {
      const MaskPtr m = build_mask(spec, 128, 128);
      const int blocks =
          checks.attr("flashinfer_bsr_rebuilds_the_mask")(python::mask_object(m), 32).cast<int>();
      INFO(spec.name);
      CHECK(blocks == m->block_map(32, 32).row_begin.back());  // every non-empty tile, once
      if (spec.name != "causal_document") CHECK(blocks == (spec.name == "full" ? 16 : 10));
      CHECK(blocks > 0);
    }
    const std::string torch_check = py::str(checks.attr("torch_missing_is_a_reason")());
    INFO(torch_check);
    CHECK((torch_check == "checked" || torch_check == "torch present"));
    CHECK(checks.attr("venv_of_another_python_is_named")().cast<bool>());
  } catch (py::error_already_set& e) {
    FAIL(python::describe_error(e));
  }
}

TEST_CASE("the GPU peers without their packages or a GPU give unsupported rows that say why",
          "[python][peers]") {
  const auto rows = run_scenario_text(
      "name: peers\nbackends: [flash_attn.fa4, flashinfer.block_sparse, flashinfer.decode]\nmasks: [causal]\n"
      "seqlens: [64]\nshape: {batch: 1, heads_q: 2, heads_kv: 2, head_dim: 64}\ndtypes: [bf16]\n"
      "passes: [fwd]\ntiming: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 3);
  for (const auto& r : rows) {
    INFO(r.backend << ": " << r.message);
    // This machine has no GPU (and none of these packages): never an error, always the reason.
    CHECK(r.status == Status::unsupported);
    const bool says_why = r.message.find("not importable") != std::string::npos ||
                          r.message.find("CUDA") != std::string::npos ||
                          r.message.find("GPU") != std::string::npos;
    CHECK(says_why);
  }
}

TEST_CASE("a module with run(state, pass) instead of forward/backward matches cpu.reference", "[python]") {
  const auto rows = run_scenario_text(
      "name: run_protocol\nbackends: ['python:modules/run_protocol.py']\nmasks: [causal, full]\n"
      "seqlens: [40]\nshape: {batch: 1, heads_q: 4, heads_kv: 2, head_dim: 8}\ndtypes: [fp32, bf16]\n"
      "passes: [fwd, bwd, fwd_bwd]\ntiming: {warmup: 0, min_iters: 1, max_iters: 1, min_time_s: 0}\n");
  REQUIRE(rows.size() == 12);
  check_all_ok_and_close(rows);
}

TEST_CASE("the timer brackets the Python call only: prepare is not timed", "[python]") {
  const auto rows = run_scenario_text(
      "name: sleepy\nbackends: ['python:modules/sleepy.py']\nmasks: [full]\nseqlens: [16]\n"
      "shape: {batch: 1, heads_q: 1, heads_kv: 1, head_dim: 8}\n"
      "timing: {warmup: 0, min_iters: 3, max_iters: 3, min_time_s: 0}\n");
  REQUIRE(rows.size() == 1);
  INFO(rows[0].message);
  CHECK(rows[0].status == Status::ok);
  CHECK(rows[0].iters == 3);
  CHECK(rows[0].time_ms >= 29.0);  // the 30 ms sleep of forward()
  CHECK(rows[0].time_ms < 300.0);  // not the 500 ms of prepare()
}

TEST_CASE("MemoryError in a Python backend is an oom row", "[python]") {
  const auto rows = run_scenario_text(
      "name: oom\nbackends: ['python:modules/out_of_memory.py']\nmasks: [full]\nseqlens: [16]\n"
      "shape: {batch: 1, heads_q: 1, heads_kv: 1, head_dim: 8}\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].status == Status::oom);
  CHECK_THAT(rows[0].message, Catch::Contains("MemoryError: cannot allocate 1 TiB"));
}
