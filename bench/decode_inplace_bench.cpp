// What a CPU decode step can reach: a prototype fp32 decode (Sq 1, GQA) that reads K and V in place, once per
// KV head for all its query heads, in GB/s by the `bytes` convention; docs/decode.md compares it with
// cpu.flash and the triad.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <vector>

namespace {

// Process CPU seconds: on a loaded machine, GB/s per CPU-second of each thread says what the
// threads deliver while they run (a memory stall counts as running; being descheduled does not).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

constexpr std::int64_t kB = 8, kHq = 32, kHkv = 8, kD = 128, kGroup = kHq / kHkv, kBlock = 64;

// exp(x) for x <= 0 as 2^n * p(f) (relative error about 1e-7): plain arithmetic, so the softmax
// loops vectorise (std::exp is a scalar call, and at 32 rows per key it would bound the step).
#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
#endif
inline float
exp_nonpositive(float x) {
  const float t = std::max(x, -126.0f) * 1.44269504f, n = std::floor(t), f = t - n;
  const float p =
      1.0f + f * (0.693147182f +
                  f * (0.240226507f + f * (0.0555041087f + f * (0.00961812911f + f * 0.00133335581f))));
  return p * std::bit_cast<float>(static_cast<std::int32_t>(n + 127.0f) << 23);
}

// One batch element, KV heads [h0, h1): each head's group of query heads are rows of one online
// softmax, so each K and V row ([B, Sk, Hkv, D], D contiguous) is read once, where it lies, with
// no packing. With one head per item, consecutive keys of a head are Hkv*D floats (4 KiB) apart:
// every key starts a new page, which the hardware prefetchers do not cross. With all heads per
// item, the item walks K and V in memory order, as the triad does.
#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
#endif
void decode_item(const float* q, const float* k, const float* v, float* o, std::int64_t sk, std::int64_t b,
                 std::int64_t h0, std::int64_t h1, float scale) {
  constexpr std::int64_t R = kHkv * kGroup;  // at most every query head
  static thread_local float m[R], l[R], s[R][kBlock], acc[R][kD];
  const std::int64_t rows = (h1 - h0) * kGroup;
  const float* qg = q + (b * kHq + h0 * kGroup) * kD;  // Q [B, 1, Hq, D]: the heads are contiguous
  for (std::int64_t r = 0; r < rows; ++r) {
    m[r] = -INFINITY;
    l[r] = 0;
    std::fill(acc[r], acc[r] + kD, 0.0f);
  }
  for (std::int64_t k0 = 0; k0 < sk; k0 += kBlock) {
    const std::int64_t nk = std::min(kBlock, sk - k0);
    for (std::int64_t j = 0; j < nk; ++j)
      for (std::int64_t r = 0; r < rows; ++r) {
        const float* kr = k + ((b * sk + k0 + j) * kHkv + h0 + r / kGroup) * kD;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::int64_t d = 0; d < kD; ++d) dot += qg[r * kD + d] * kr[d];
        s[r][j] = dot * scale;
      }
    for (std::int64_t r = 0; r < rows; ++r) {
      float mx = m[r];
      for (std::int64_t j = 0; j < nk; ++j) mx = std::max(mx, s[r][j]);
      const float alpha = exp_nonpositive(m[r] - mx);
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t j = 0; j < nk; ++j) sum += s[r][j] = exp_nonpositive(s[r][j] - mx);
      l[r] = l[r] * alpha + sum;
      m[r] = mx;
      for (std::int64_t d = 0; d < kD; ++d) acc[r][d] *= alpha;
    }
    for (std::int64_t j = 0; j < nk; ++j)
      for (std::int64_t r = 0; r < rows; ++r) {
        const float* vr = v + ((b * sk + k0 + j) * kHkv + h0 + r / kGroup) * kD;
        const float p = s[r][j];
#pragma omp simd
        for (std::int64_t d = 0; d < kD; ++d) acc[r][d] += p * vr[d];
      }
  }
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t d = 0; d < kD; ++d) o[(b * kHq + h0 * kGroup + r) * kD + d] = acc[r][d] / l[r];
}

void BM_decode_inplace(benchmark::State& state) {
  const std::int64_t sk = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const std::int64_t heads_per_item = state.range(2);  // 1 or kHkv
  const std::int64_t kv = kB * sk * kHkv * kD;
  std::unique_ptr<float[]> q(new float[kB * kHq * kD]), k(new float[kv]), v(new float[kv]),
      o(new float[kB * kHq * kD]);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < kv; ++i) {
    k[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
    v[i] = static_cast<float>((i * 104729) % 1000) * 1e-3f - 0.5f;
  }
  for (std::int64_t i = 0; i < kB * kHq * kD; ++i) q[i] = static_cast<float>((i * 31) % 97) * 0.01f - 0.5f;
  const float scale = 1.0f / std::sqrt(static_cast<float>(kD));
  auto step = [&] {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (std::int64_t item = 0; item < kB * kHkv / heads_per_item; ++item) {
      const std::int64_t b = item / (kHkv / heads_per_item),
                         h0 = item % (kHkv / heads_per_item) * heads_per_item;
      decode_item(q.get(), k.get(), v.get(), o.get(), sk, b, h0, h0 + heads_per_item, scale);
    }
  };
  step();  // warm-up
  // Check one query head against a float64 softmax, so the figure is of a correct kernel.
  {
    std::vector<double> p(static_cast<std::size_t>(sk));
    double mx = -INFINITY, sum = 0;
    for (std::int64_t j = 0; j < sk; ++j) {
      double dot = 0;
      for (std::int64_t d = 0; d < kD; ++d) dot += double(q[d]) * double(k[j * kHkv * kD + d]);
      p[j] = dot * scale;
      mx = std::max(mx, p[j]);
    }
    for (auto& x : p) sum += x = std::exp(x - mx);
    for (std::int64_t d = 0; d < kD; ++d) {
      double want = 0;
      for (std::int64_t j = 0; j < sk; ++j) want += p[j] * double(v[j * kHkv * kD + d]);
      want /= sum;
      if (std::abs(want - double(o[d])) > 1e-3 * (1 + std::abs(want))) state.SkipWithError("wrong output");
    }
  }
  // The `bytes` column's convention (harness/traffic.cpp): Q, K, V, O and LSE once.
  const double bytes = 4.0 * (2.0 * kB * kHq * kD + 2.0 * double(kv) + kB * kHq);
  double best = 1e300;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(o.get());
    state.SetIterationTime(s);
    best = std::min(best, s);
  }
  state.counters["GB/s"] = bytes / best / 1e9;  // best step, as the triad reports its best
  state.counters["GB/s_per_cpu_s"] =
      bytes * static_cast<double>(state.iterations()) / ((cpu_seconds() - cpu0) / threads) / 1e9;
  state.counters["GB/s_mean"] =
      benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);  // over the mean step
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // B 8, Hq 32, Hkv 8, D 128, one query per sequence; caches of 16K and 64K keys (1 and 4 GiB of K and
  // V); one KV head per work item (B*Hkv items) or all of them (B items, memory order).
  std::vector<int> thread_counts{1};
  if (omp_get_num_procs() > 1) thread_counts.push_back(omp_get_num_procs());
  for (std::int64_t sk : {16384, 65536})
    for (int threads : thread_counts)
      for (std::int64_t heads : {std::int64_t{1}, kHkv}) {
        benchmark::RegisterBenchmark(heads == 1 ? "decode_inplace/per_head" : "decode_inplace/all_heads",
                                     BM_decode_inplace)
            ->Args({sk, threads, heads})
            ->UseManualTime()
            ->Iterations(5)
            ->Unit(benchmark::kMillisecond);
      }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
