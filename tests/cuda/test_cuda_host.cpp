// CPU-side logic of the CUDA backends (runs in CI without a GPU): planning, mask mappings, conversions,
// no-device answers.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "attnbench/registry.hpp"
#include "attnbench/strategy.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device.hpp"
#include "backends/cuda/common/dtype_convert.hpp"
#include "backends/cuda/cudnn_sdpa/cudnn_mask.hpp"
#include "backends/cuda/cudnn_sdpa/plan_key.hpp"
#include "backends/cuda/math/mask_rows.hpp"
#include "backends/cuda/math/math_plan.hpp"
#include "harness/inputs.hpp"
#include "masks/library.hpp"

using namespace attnbench;
using namespace attnbench::cuda;

namespace {

MaskPtr mask(const std::string& name, std::int64_t sq, std::int64_t sk = -1,
             std::map<std::string, std::string> params = {}) {
  return build_mask(MaskSpec{name, std::move(params)}, sq, sk < 0 ? sq : sk);
}

Problem problem(MaskPtr m, std::int64_t hq = 8, std::int64_t hkv = 2, std::int64_t d = 64,
                Pass pass = Pass::fwd, DType dtype = DType::bf16) {
  Problem p;
  p.shape = {1, hq, hkv, m->seqlen_q(), m->seqlen_k(), d};
  p.dtype = dtype;
  p.pass = pass;
  p.mask = std::move(m);
  return p;
}

// Brute force over the cuDNN semantics: same segment, then the band in local coordinates.
bool cudnn_allows(const cudnn_sdpa::CudnnMaskArgs& a, std::int64_t sq, std::int64_t sk, std::int64_t q,
                  std::int64_t k) {
  std::int64_t shift = a.bottom_right ? sk - sq : 0;
  if (a.ragged()) {
    bool same = false;
    for (std::size_t i = 0; i < a.segment_starts.size(); ++i) {
      const std::int64_t lo = a.segment_starts[i], hi = lo + a.segment_lengths[i];
      if (q >= lo && q < hi) same = k >= lo && k < hi;
    }
    if (!same) return false;
  }
  if (a.left_bound && !(q + shift - k < *a.left_bound)) return false;
  if (a.right_bound && !(k - q - shift <= *a.right_bound)) return false;
  return true;
}

void require_same_mask(const Mask& m, const cudnn_sdpa::CudnnMaskArgs& a) {
  for (std::int64_t q = 0; q < m.seqlen_q(); ++q) {
    for (std::int64_t k = 0; k < m.seqlen_k(); ++k) {
      if (m.allowed(q, k) != cudnn_allows(a, m.seqlen_q(), m.seqlen_k(), q, k)) {
        FAIL("mask " << m.name() << " differs from its cuDNN form at q=" << q << " k=" << k);
      }
    }
  }
}

}  // namespace

TEST_CASE("cuda.math items are numbered j-major and cover every query head once", "[cuda][math]") {
  const Shape s{2, 8, 2, 64, 64, 32};
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  std::int64_t last_j = 0;
  for (std::int64_t i = 0; i < math::item_count(s); ++i) {
    const math::HeadItem it = math::item_head(i, s);
    REQUIRE(it.h == it.g * 4 + it.j);
    REQUIRE(it.g < s.heads_kv);
    REQUIRE(it.j >= last_j);  // all j = 0 items before any j = 1 item
    last_j = it.j;
    seen.insert({it.b, it.h});
  }
  REQUIRE(seen.size() == 16);
}

TEST_CASE("cuda.math sub-batches split passes at (j, b) boundaries", "[cuda][math]") {
  const Shape s{2, 8, 2, 64, 64, 32};  // 2 kv heads: runs of 2 items share (j, b)
  const auto subs = math::gemm_sub_batches(1, 6, s);
  REQUIRE(subs == std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 2}, {2, 4}, {4, 6}});
  for (auto [b0, b1] : subs) {
    const auto first = math::item_head(b0, s);
    for (std::int64_t i = b0; i < b1; ++i) {
      const auto it = math::item_head(i, s);
      REQUIRE(it.j == first.j);
      REQUIRE(it.b == first.b);
      REQUIRE(it.g == first.g + (i - b0));  // fixed stride through K and Q
    }
  }
  const Shape mha{1, 4, 4, 64, 64, 32};
  REQUIRE(math::gemm_sub_batches(0, 4, mha).size() == 1);
}

TEST_CASE("cuda.math passes fit the budget or the case is oom", "[cuda][math]") {
  const Shape s{1, 64, 8, 16384, 16384, 128};
  const std::size_t per_fwd = math::score_bytes_per_item(s, 2, false);
  const std::size_t per_bwd = math::score_bytes_per_item(s, 2, true);
  REQUIRE(per_fwd == std::size_t{16384} * 16384 * 6);
  REQUIRE(per_bwd == std::size_t{16384} * 16384 * 12);
  REQUIRE(math::items_per_pass(64, per_fwd, 10 * per_fwd + 5, 0) == 10);
  REQUIRE(math::items_per_pass(64, per_fwd, 1000 * per_fwd, 0) == 64);
  REQUIRE(math::items_per_pass(64, per_fwd, 1000 * per_fwd, 4) == 4);
  REQUIRE(math::items_per_pass(64, per_fwd, 3 * per_fwd, 8) == 3);  // a request never beats the budget
  REQUIRE(math::items_per_pass(64, per_fwd, per_fwd - 1, 0) == 0);  // oom
  REQUIRE(math::items_per_pass(100000, 1, SIZE_MAX, 0) == math::kMaxGridY);
}

TEST_CASE("cuda.math row kernels get a power-of-two block of 32 to 512 threads", "[cuda][math]") {
  REQUIRE(math::row_kernel_threads(1) == 32);
  REQUIRE(math::row_kernel_threads(256) == 32);
  REQUIRE(math::row_kernel_threads(257) == 64);
  REQUIRE(math::row_kernel_threads(4096) == 512);
  REQUIRE(math::row_kernel_threads(1 << 20) == 512);
  REQUIRE(math::row_dot_blocks(17) == 3);
  REQUIRE(math::row_dot_blocks(16) == 2);
}

TEST_CASE("cuda.math mask rows reproduce the mask and its area", "[cuda][math]") {
  for (const auto& m :
       {mask("causal", 96), mask("sliding_window", 80, 80, {{"window", "7"}}), mask("causal", 40, 72),
        mask("full_document", 64, 64, {{"doc_lengths", "[10, 30, 24]"}}),
        mask("block_sparse", 128, 128, {{"block", "16"}, {"keep", "0.3"}, {"seed", "3"}})}) {
    const math::MaskRows rows = math::build_mask_rows(*m);
    REQUIRE(rows.row_ptr.size() == static_cast<std::size_t>(m->seqlen_q() + 1));
    std::int64_t area = 0;
    for (std::int64_t q = 0; q < m->seqlen_q(); ++q) {
      std::int64_t prev_hi = -1;
      std::vector<bool> allowed(static_cast<std::size_t>(m->seqlen_k()), false);
      for (std::int64_t r = rows.row_ptr[q]; r < rows.row_ptr[q + 1]; ++r) {
        const std::int64_t lo = rows.bounds[2 * r], hi = rows.bounds[2 * r + 1];
        REQUIRE(lo < hi);
        REQUIRE(lo >= prev_hi);  // sorted, disjoint
        prev_hi = hi;
        for (std::int64_t k = lo; k < hi; ++k) allowed[k] = true;
        area += hi - lo;
      }
      for (std::int64_t k = 0; k < m->seqlen_k(); ++k) REQUIRE(allowed[k] == m->allowed(q, k));
    }
    REQUIRE(area == m->area());
  }
}

TEST_CASE("cudnn.sdpa expresses full, causal, windows and documents exactly", "[cuda][cudnn]") {
  struct Case {
    MaskPtr m;
    bool ragged;
  };
  const std::vector<Case> cases = {
      {mask("full", 64), false},
      {mask("causal", 64), false},
      {mask("sliding_window", 64, 64, {{"window", "5"}}), false},
      {mask("causal_sliding_window", 64, 64, {{"window", "9"}}), false},
      {mask("full_document", 64, 64, {{"doc_lengths", "[10, 30, 24]"}}), true},
      {mask("causal_document", 64, 64, {{"doc_lengths", "[5, 50, 9]"}}), true},
      {mask("causal_document", 64, 64, {{"doc_lengths", "[64]"}}), false},
      // Sq != Sk: bottom-right aligned bands.
      {mask("full", 32, 80), false},
      {mask("causal", 32, 80), false},
      {mask("sliding_window", 32, 80, {{"window", "6"}}), false},
      {mask("causal_sliding_window", 32, 80, {{"window", "6"}}), false},
  };
  for (const auto& c : cases) {
    INFO(c.m->name() << " " << c.m->params_json() << " " << c.m->seqlen_q() << "x" << c.m->seqlen_k());
    const auto mapped = cudnn_sdpa::map_mask(*c.m);
    REQUIRE(mapped.support.ok);
    REQUIRE(mapped.args.ragged() == c.ragged);
    require_same_mask(*c.m, mapped.args);
  }
}

TEST_CASE("cudnn.sdpa maps windows to cuDNN's exclusive left and inclusive right bounds", "[cuda][cudnn]") {
  const auto sw = cudnn_sdpa::map_mask(*mask("sliding_window", 64, 64, {{"window", "5"}})).args;
  REQUIRE(sw.left_bound == 6);
  REQUIRE(sw.right_bound == 5);
  REQUIRE_FALSE(sw.bottom_right);
  const auto causal = cudnn_sdpa::map_mask(*mask("causal", 64)).args;
  REQUIRE_FALSE(causal.left_bound);
  REQUIRE(causal.right_bound == 0);
  const auto full = cudnn_sdpa::map_mask(*mask("full", 64)).args;
  REQUIRE_FALSE(full.left_bound);
  REQUIRE_FALSE(full.right_bound);
  const auto br = cudnn_sdpa::map_mask(*mask("causal", 16, 48)).args;
  REQUIRE(br.bottom_right);
  REQUIRE(br.right_bound == 0);
  const auto docs =
      cudnn_sdpa::map_mask(*mask("causal_document", 64, 64, {{"doc_lengths", "[5, 50, 9]"}})).args;
  REQUIRE(docs.segment_starts == std::vector<std::int64_t>{0, 5, 55});
  REQUIRE(docs.segment_lengths == std::vector<std::int64_t>{5, 50, 9});
  REQUIRE(docs.max_segment_length() == 50);
  REQUIRE(docs.right_bound == 0);
}

TEST_CASE("cudnn.sdpa answers unsupported with the reason for other masks", "[cuda][cudnn]") {
  for (const auto& m : {mask("prefix_lm_causal", 64, 64, {{"prefix", "16"}}),
                        mask("share_question", 64, 64, {{"doc_lengths", "[16, 24, 24]"}}),
                        mask("block_sparse", 64, 64, {{"block", "16"}, {"keep", "0.5"}, {"seed", "1"}}),
                        mask("global_sliding_window", 64, 64, {{"global", "4"}, {"window", "8"}})}) {
    const auto mapped = cudnn_sdpa::map_mask(*m);
    REQUIRE_FALSE(mapped.support.ok);
    REQUIRE_THAT(mapped.support.reason, Catch::StartsWith("cudnn.sdpa: mask " + m->name() +
                                                          " is not expressible in cuDNN SDPA (needs "));
  }
  const auto wide = cudnn_sdpa::map_mask(*mask("causal", 80, 32));
  REQUIRE_FALSE(wide.support.ok);
  REQUIRE_THAT(wide.support.reason, Catch::Contains("seqlen_q <= seqlen_k"));
}

TEST_CASE("cudnn.sdpa ragged offsets, sequence lengths and statistics layout", "[cuda][cudnn]") {
  const auto a = cudnn_sdpa::map_mask(*mask("full_document", 64, 64, {{"doc_lengths", "[10, 30, 24]"}})).args;
  const std::int64_t batch = 2, heads = 3, dim = 4, seq = 64;
  REQUIRE(cudnn_sdpa::cudnn_batch(a, batch) == 6);
  const auto off = cudnn_sdpa::ragged_offsets(a, batch, seq, heads, dim);
  REQUIRE(off == std::vector<std::int64_t>{0, 120, 480, 768, 888, 1248, 1536});
  REQUIRE(cudnn_sdpa::ragged_seq_lens(a, batch) == std::vector<std::int32_t>{10, 30, 24, 10, 30, 24});
  REQUIRE(cudnn_sdpa::stats_elems(a, batch, heads, seq) == 6 * 3 * 30);
  // stats[entry][h][t] = 1000 * entry + 100 * h + t lands at lse[b][h][start + t].
  std::vector<float> stats(static_cast<std::size_t>(cudnn_sdpa::stats_elems(a, batch, heads, seq)), -1.0f);
  for (int e = 0; e < 6; ++e)
    for (int h = 0; h < heads; ++h)
      for (int t = 0; t < 30; ++t) stats[(e * heads + h) * 30 + t] = 1000.0f * e + 100.0f * h + t;
  const auto lse = cudnn_sdpa::stats_to_lse(a, batch, heads, seq, stats);
  REQUIRE(lse.size() == static_cast<std::size_t>(batch * heads * seq));
  REQUIRE(lse[(1 * heads + 2) * seq + 10 + 7] == 1000.0f * 4 + 200.0f + 7);  // b1, h2, doc 1, t7
  REQUIRE(lse[(0 * heads + 0) * seq + 40 + 23] == 1000.0f * 2 + 23);         // b0, h0, doc 2, t23
  const auto dense = cudnn_sdpa::map_mask(*mask("causal", 64)).args;
  REQUIRE(cudnn_sdpa::ragged_offsets(dense, 2, 64, 3, 4) == std::vector<std::int64_t>{0, 768, 1536});
  REQUIRE(cudnn_sdpa::stats_to_lse(dense, 1, 1, 3, {1.0f, 2.0f, 3.0f}) ==
          std::vector<float>{1.0f, 2.0f, 3.0f});
}

TEST_CASE("cudnn.sdpa plan keys separate everything a built graph depends on", "[cuda][cudnn]") {
  const auto base_mask = mask("causal", 128);
  const auto args = cudnn_sdpa::map_mask(*base_mask).args;
  const Problem p = problem(base_mask);
  const auto k = cudnn_sdpa::make_plan_key(p, args, false);
  REQUIRE(k.to_string() == "fwd bf16 b1 hq8 hkv2 sq128 sk128 d64 s0.125 l-1 r0 tl dense");
  REQUIRE(k == cudnn_sdpa::make_plan_key(p, args, false));
  Problem other_seed = p;
  other_seed.seed = 99;  // inputs do not change the graph
  REQUIRE(k == cudnn_sdpa::make_plan_key(other_seed, args, false));
  REQUIRE(k != cudnn_sdpa::make_plan_key(p, args, true));
  Problem fp16 = p;
  fp16.dtype = DType::fp16;
  REQUIRE(k != cudnn_sdpa::make_plan_key(fp16, args, false));
  Problem scaled = p;
  scaled.softmax_scale = 0.5;
  REQUIRE(k != cudnn_sdpa::make_plan_key(scaled, args, false));
  const auto full_args = cudnn_sdpa::map_mask(*mask("full", 128)).args;
  REQUIRE(k != cudnn_sdpa::make_plan_key(p, full_args, false));
  // Documents: cuDNN batch entries and the longest segment, not the offsets.
  const auto d1 =
      cudnn_sdpa::map_mask(*mask("causal_document", 128, 128, {{"doc_lengths", "[28, 100]"}})).args;
  const auto d2 =
      cudnn_sdpa::map_mask(*mask("causal_document", 128, 128, {{"doc_lengths", "[100, 28]"}})).args;
  const auto kd = cudnn_sdpa::make_plan_key(p, d1, false);
  REQUIRE(kd.ragged);
  REQUIRE(kd.batch == 2);
  REQUIRE(kd.seqlen_q == 100);
  REQUIRE(kd == cudnn_sdpa::make_plan_key(p, d2, false));
  REQUIRE((k < kd) != (kd < k));  // a strict order for the cache's map
}

TEST_CASE("bf16 and fp16 host conversion round to nearest even, as the harness rounds inputs",
          "[cuda][dtype]") {
  REQUIRE(to_float(from_float<__nv_bfloat16>(1.0f)) == 1.0f);
  // 1 + 2^-8 is halfway between two bf16 values: ties to even (1.0).
  REQUIRE(to_float(from_float<__nv_bfloat16>(1.0f + std::ldexp(1.0f, -8))) == 1.0f);
  REQUIRE(to_float(from_float<__nv_bfloat16>(1.0f + 3 * std::ldexp(1.0f, -8))) ==
          1.0f + std::ldexp(1.0f, -6));
  REQUIRE(std::isinf(to_float(from_float<__half>(70000.0f))));
  REQUIRE(std::isinf(to_float(from_float<__nv_bfloat16>(-std::numeric_limits<float>::infinity()))));
  std::uint32_t state = 12345;
  for (int i = 0; i < 20000; ++i) {
    state = state * 1664525u + 1013904223u;
    const float x = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * std::ldexp(1.0f, (i % 40) - 20);
    const float b = to_float(from_float<__nv_bfloat16>(x));
    REQUIRE(b == attnbench::round_to_dtype(x, DType::bf16));
    REQUIRE(to_float(from_float<__nv_bfloat16>(b)) == b);  // idempotent: inputs survive upload exactly
    REQUIRE(std::fabs(b - x) <= std::fabs(x) * std::ldexp(1.0f, -8));
    const float h = to_float(from_float<__half>(x));
    REQUIRE(h == attnbench::round_to_dtype(x, DType::fp16));
  }
  std::vector<float> in{0.1f, -2.5f, 3.0e-3f}, back(3);
  std::vector<__nv_bfloat16> dev(3);
  convert_from_float<__nv_bfloat16>(in, dev);
  convert_to_float<__nv_bfloat16>(dev, back);
  for (std::size_t i = 0; i < in.size(); ++i)
    REQUIRE(back[i] == attnbench::round_to_dtype(in[i], DType::bf16));
}

TEST_CASE("CUDA call errors carry file:line, the call and the library's message", "[cuda][errors]") {
  try {
    throw_call_error("CUDA", "invalid argument", false, "cudaMemcpy(a, b, n, k)", "x.cpp", 42);
    FAIL("no throw");
  } catch (const OutOfMemory&) {
    FAIL("not an allocation failure");
  } catch (const std::runtime_error& e) {
    REQUIRE(std::string(e.what()) == "x.cpp:42: cudaMemcpy(a, b, n, k): CUDA: invalid argument");
  }
  REQUIRE_THROWS_AS(throw_call_error("CUDA", "out of memory", true, "cudaMalloc(&p, n)", "y.cu", 7),
                    OutOfMemory);
  REQUIRE_THROWS_AS([] { ATTNBENCH_CUDA_CHECK(cudaErrorMemoryAllocation); }(), OutOfMemory);
  REQUIRE_THROWS_WITH([] { ATTNBENCH_CUDA_CHECK(cudaErrorInvalidValue); }(),
                      Catch::Contains("test_cuda_host.cpp:") && Catch::Contains("cudaErrorInvalidValue"));
}

TEST_CASE("L2 flush buffer is twice the L2, at least 1 MiB, and the option parses", "[cuda][timing]") {
  REQUIRE(l2_flush_bytes(50 << 20) == std::size_t{100} << 20);
  REQUIRE(l2_flush_bytes(0) == std::size_t{1} << 20);
  Problem p = problem(mask("full", 16));
  REQUIRE(l2_flush_option(p));
  p.options["l2_flush"] = "false";
  REQUIRE_FALSE(l2_flush_option(p));
  p.options["l2_flush"] = "maybe";
  REQUIRE_THROWS_AS(l2_flush_option(p), InputError);
  REQUIRE(format_cuda_version(13000) == "13.0");
  REQUIRE(format_cuda_version(12080) == "12.8");
}

TEST_CASE("cuda.math chunk mask rows are the rectangle's rows, keys relative to its origin",
          "[cuda][math][cp]") {
  const auto m = mask("causal_document", 96, 96, {{"doc_lengths", "[20, 50, 26]"}});
  const std::int64_t q0 = 30, nq = 40, k0 = 12, nk = 50;
  const math::MaskRows rows = math::build_mask_rows(*m, q0, nq, k0, nk);
  REQUIRE(rows.row_ptr.size() == static_cast<std::size_t>(nq + 1));
  std::int64_t area = 0;
  for (std::int64_t i = 0; i < nq; ++i) {
    std::vector<bool> allowed(static_cast<std::size_t>(nk), false);
    for (std::int64_t r = rows.row_ptr[i]; r < rows.row_ptr[i + 1]; ++r) {
      REQUIRE(rows.bounds[2 * r] >= 0);
      REQUIRE(rows.bounds[2 * r + 1] <= nk);
      for (std::int64_t k = rows.bounds[2 * r]; k < rows.bounds[2 * r + 1]; ++k) allowed[k] = true;
      area += rows.bounds[2 * r + 1] - rows.bounds[2 * r];
    }
    for (std::int64_t j = 0; j < nk; ++j) REQUIRE(allowed[j] == m->allowed(q0 + i, k0 + j));
  }
  REQUIRE(area == m->area_in(q0, nq, k0, nk));
  REQUIRE(area > 0);
  CHECK_THROWS_AS(math::build_mask_rows(*m, 90, 10, 0, 5), std::invalid_argument);
}

TEST_CASE("each process picks its GPU: ATTNBENCH_CUDA_DEVICE, else local rank modulo the count",
          "[cuda][device]") {
  std::string why;
  CHECK(choose_device(nullptr, nullptr, 1, &why) == 0);
  CHECK(choose_device(nullptr, "3", 1, &why) == 0);  // four ranks share one GPU
  CHECK(choose_device(nullptr, "3", 2, &why) == 1);
  CHECK(choose_device(nullptr, "5", 8, &why) == 5);
  CHECK(choose_device("", "5", 8, &why) == 5);
  CHECK(choose_device(nullptr, "junk", 4, &why) == 0);
  CHECK(choose_device("2", "5", 8, &why) == 2);  // explicit beats the rank
  CHECK(why.empty());
  CHECK(choose_device("8", nullptr, 8, &why) == -1);
  CHECK(why == "ATTNBENCH_CUDA_DEVICE='8' (accepted: 0..7)");
  CHECK(choose_device("-1", nullptr, 8, &why) == -1);
  CHECK(choose_device("1x", nullptr, 8, &why) == -1);
  CHECK(choose_device(nullptr, nullptr, 0, &why) == -1);
}

TEST_CASE("CUDA backends serve CP strategies: chunk kernels, and no CUDA device without one", "[cuda][cp]") {
  std::string why;
  const bool have = cuda_device_available(&why);
  for (const char* name : {"cuda.math", "cuda.flash"}) {
    Backend* b = Registry::instance().find_backend(name);
    REQUIRE(b != nullptr);
    INFO(name);
    REQUIRE(dynamic_cast<const ChunkCapable*>(b) != nullptr);
    for (const char* strategy : {"ring_zigzag", "allgather_kv", "usp"}) {
      Strategy* st = Registry::instance().find_strategy(strategy);
      REQUIRE(st != nullptr);
      Problem p = problem(mask("causal", 256));
      p.strategy = strategy;
      p.world_size = 2;
      const Support s = st->supports(p, *b);
      INFO(strategy << ": " << s.reason);
      if (have) {
        CHECK(s.ok);
      } else {
        CHECK_FALSE(s.ok);
        CHECK(s.reason == "no CUDA device");
      }
    }
  }
}

TEST_CASE("without a usable device the CUDA backends answer unsupported: no CUDA device",
          "[cuda][nodevice]") {
  std::string why;
  const bool have = cuda_device_available(&why);
  for (const char* name : {"cuda.math", "cudnn.sdpa"}) {
    Backend* b = Registry::instance().find_backend(name);
    if (b == nullptr) {
      // cudnn.sdpa is left out of builds without the cuDNN frontend; cuda.math never is.
      REQUIRE(std::string(name) == "cudnn.sdpa");
      continue;
    }
    INFO(name);
    REQUIRE(b->info().device == Device::cuda);
    const Support s = b->supports(problem(mask("causal", 128)));
    if (have) {
      REQUIRE(s.ok);
    } else {
      REQUIRE_FALSE(s.ok);
      REQUIRE(s.reason == "no CUDA device");
      REQUIRE_THAT(why, Catch::StartsWith("no CUDA device"));
    }
  }
}
