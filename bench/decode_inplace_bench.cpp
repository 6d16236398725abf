// What a CPU decode step can reach: a prototype fp32 decode (Sq 1, GQA) that reads K and V in place, once per
// KV head for all its query heads, in GB/s by the `bytes` convention; docs/decode.md compares it with
// cpu.flash and the triad.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
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

// One (batch, KV head): the group's query heads are the rows of one online softmax, so each
// K and V row ([B, Sk, Hkv, D], D contiguous) is read once, where it lies, with no packing.
#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
#endif
void decode_item(const float* q, const float* k, const float* v, float* o, std::int64_t sk, std::int64_t b,
                 std::int64_t h, float scale) {
  float m[kGroup], l[kGroup], s[kGroup][kBlock], acc[kGroup][kD];
  const float* qg = q + (b * kHq + h * kGroup) * kD;  // Q [B, 1, Hq, D]: the group is contiguous
  for (std::int64_t r = 0; r < kGroup; ++r) {
    m[r] = -INFINITY;
    l[r] = 0;
    std::fill(acc[r], acc[r] + kD, 0.0f);
  }
  for (std::int64_t k0 = 0; k0 < sk; k0 += kBlock) {
    const std::int64_t nk = std::min(kBlock, sk - k0);
    for (std::int64_t j = 0; j < nk; ++j) {
      const float* kr = k + ((b * sk + k0 + j) * kHkv + h) * kD;
      for (std::int64_t r = 0; r < kGroup; ++r) {
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::int64_t d = 0; d < kD; ++d) dot += qg[r * kD + d] * kr[d];
        s[r][j] = dot * scale;
      }
    }
    for (std::int64_t r = 0; r < kGroup; ++r) {
      float mx = m[r];
      for (std::int64_t j = 0; j < nk; ++j) mx = std::max(mx, s[r][j]);
      const float alpha = std::exp(m[r] - mx);
      float sum = 0;
      for (std::int64_t j = 0; j < nk; ++j) sum += s[r][j] = std::exp(s[r][j] - mx);
      l[r] = l[r] * alpha + sum;
      m[r] = mx;
      for (std::int64_t d = 0; d < kD; ++d) acc[r][d] *= alpha;
    }
    for (std::int64_t j = 0; j < nk; ++j) {
      const float* vr = v + ((b * sk + k0 + j) * kHkv + h) * kD;
      for (std::int64_t r = 0; r < kGroup; ++r) {
        const float p = s[r][j];
#pragma omp simd
        for (std::int64_t d = 0; d < kD; ++d) acc[r][d] += p * vr[d];
      }
    }
  }
  for (std::int64_t r = 0; r < kGroup; ++r)
    for (std::int64_t d = 0; d < kD; ++d) o[(b * kHq + h * kGroup + r) * kD + d] = acc[r][d] / l[r];
}

void BM_decode_inplace(benchmark::State& state) {
  const std::int64_t sk = state.range(0);
  const int threads = static_cast<int>(state.range(1));
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
    for (std::int64_t item = 0; item < kB * kHkv; ++item)
      decode_item(q.get(), k.get(), v.get(), o.get(), sk, item / kHkv, item % kHkv, scale);
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
  // B 8, Hq 32, Hkv 8, D 128, one query per sequence; caches of 16K and 64K keys (1 and 4 GiB of K and V).
  for (std::int64_t sk : {16384, 65536})
    for (int threads : {1, omp_get_num_procs()}) {
      benchmark::RegisterBenchmark("decode_inplace", BM_decode_inplace)
          ->Args({sk, threads})
          ->UseManualTime()
          ->Iterations(5)
          ->Unit(benchmark::kMillisecond);
      if (omp_get_num_procs() == 1) break;
    }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
