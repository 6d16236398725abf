// cuda_flash_gpu_check: cuda.flash against cpu.reference on the kernel's edge cases (ragged lengths,
// Sq != Sk, GQA, empty rows, every library mask); prints one line per case. Needs a GPU; not in ctest.
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "backends/cuda/common/device.hpp"
#include "harness/check.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"
#include "tests/cuda_flash/random_masks.hpp"

using namespace attnbench;

namespace {

Outputs run_backend(const std::string& name, const Problem& p, const Inputs& in) {
  Backend* b = Registry::instance().find_backend(name);
  if (b == nullptr) throw std::runtime_error("backend " + name + " is not registered");
  const Support s = b->supports(p);
  if (!s.ok) throw std::runtime_error(name + ": " + s.reason);
  MemoryTracker host, device;
  Resources res;
  res.host = &host;
  res.device = &device;
  auto exec = b->prepare(p, in, res);
  exec->run();
  Outputs out;
  exec->fetch_outputs(out);
  return out;
}

// Where the largest error of one tensor sits, to tell a tile-edge bug from a general one.
void print_worst(const char* what, const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size() || got.empty()) return;
  std::size_t at = 0;
  double worst = -1.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = std::isinf(ref[i]) && got[i] == ref[i] ? 0.0 : std::fabs(double(got[i]) - ref[i]);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  std::printf("    %-3s worst |err| %.3g at flat index %zu (got %g, want %g)\n", what, worst, at, got[at],
              ref[at]);
}

struct Case {
  std::string label;
  MaskPtr mask;
  Shape shape;
  DType dtype;
};

}  // namespace

int main() {
  std::string why;
  if (!cuda::cuda_device_available(&why)) {
    std::printf("cuda_flash_gpu_check: %s\n", why.c_str());
    return 77;  // the conventional "skipped" exit status
  }
  std::vector<Case> cases;
  auto add = [&](std::string label, MaskPtr m, std::int64_t b, std::int64_t hq, std::int64_t hkv,
                 std::int64_t d, DType dt) {
    cases.push_back({std::move(label), m, {b, hq, hkv, m->seqlen_q(), m->seqlen_k(), d}, dt});
  };
  using cuda::flash::test::mask_from_slices;
  // Ragged lengths, both dtypes and head dims, GQA.
  for (std::int64_t d : {64, 128})
    for (DType dt : {DType::bf16, DType::fp16}) {
      add("full 100x100", mask_from_slices(100, 100, {{0, 100, 0, 100, SliceType::full}}), 1, 4, 2, d, dt);
      add("causal 300x300", mask_from_slices(300, 300, {{0, 300, 0, 300, SliceType::causal}}), 2, 4, 1, d,
          dt);
    }
  add("causal 1x1", mask_from_slices(1, 1, {{0, 1, 0, 1, SliceType::causal}}), 1, 2, 2, 128, DType::bf16);
  add("causal Sq<Sk 130x517", mask_from_slices(130, 517, {{0, 130, 0, 517, SliceType::causal}}), 1, 8, 2, 128,
      DType::bf16);
  add("full Sq>Sk 517x70", mask_from_slices(517, 70, {{0, 517, 0, 70, SliceType::full}}), 1, 4, 4, 64,
      DType::bf16);
  // Rows 0..49 and 200..255 see nothing: O = 0, LSE = -inf, no gradient.
  add("empty rows", mask_from_slices(256, 256, {{50, 200, 0, 256, SliceType::inv_causal}}), 1, 4, 2, 128,
      DType::bf16);
  add("nothing allowed", mask_from_slices(129, 65, {}), 1, 2, 1, 64, DType::bf16);
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 6; ++i) {
    const std::int64_t sq = 1 + static_cast<std::int64_t>(rng() % 700),
                       sk = 1 + static_cast<std::int64_t>(rng() % 700);
    add("random slices " + std::to_string(sq) + "x" + std::to_string(sk),
        cuda::flash::test::random_mask(rng, sq, sk), 1, 8, 2, i % 2 ? 64 : 128,
        i % 3 ? DType::bf16 : DType::fp16);
  }
  // Every mask of the library with its default parameters.
  for (const auto& name : mask_names()) {
    try {
      add(name + " 700", build_mask(MaskSpec{name, {}}, 700, 700), 1, 4, 2, 128, DType::bf16);
    } catch (const std::exception& e) {
      std::printf("(mask %s needs parameters: %s)\n", name.c_str(), e.what());
    }
  }

  int failed = 0;
  for (const Case& c : cases) {
    Problem p;
    p.shape = c.shape;
    p.dtype = c.dtype;
    p.pass = Pass::fwd_bwd;
    p.mask = c.mask;
    p.softmax_scale = 1.0 / std::sqrt(static_cast<double>(c.shape.head_dim));
    p.seed = 7;
    const std::string head = c.label + " B" + std::to_string(c.shape.batch) + " H" +
                             std::to_string(c.shape.heads_q) + "/" + std::to_string(c.shape.heads_kv) + " D" +
                             std::to_string(c.shape.head_dim) + " " + std::string(to_string(c.dtype));
    try {
      const Inputs in = generate_inputs(p);
      const Outputs ref = run_backend("cpu.reference", p, in);
      const Outputs got = run_backend("cuda.flash", p, in);
      const CheckResult r = compare_outputs(got, ref, Pass::fwd_bwd, 1e-2, 1e-2);
      std::printf("%-4s %-48s rel_l2 %.3g (worst: %s) max_abs %.3g\n", r.passed ? "ok" : "FAIL", head.c_str(),
                  r.rel_l2_err, r.worst.c_str(), r.max_abs_err);
      if (!r.passed) {
        ++failed;
        print_worst("o", got.o, ref.o);
        print_worst("lse", got.lse, ref.lse);
        print_worst("dq", got.dq, ref.dq);
        print_worst("dk", got.dk, ref.dk);
        print_worst("dv", got.dv, ref.dv);
      }
    } catch (const std::exception& e) {
      ++failed;
      std::printf("ERR  %-48s %s\n", head.c_str(), e.what());
    }
  }
  std::printf("cuda_flash_gpu_check: %zu cases, %d failed\n", cases.size(), failed);
  return failed == 0 ? 0 : 1;
}
