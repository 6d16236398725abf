// The machine's memory-bandwidth ceiling: a STREAM-style triad a[i] = b[i] + s*c[i], fp32 and fp64, on one
// OpenMP thread and on all cores (decode rows are compared with it in docs/decode.md).
#include <benchmark/benchmark.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace {

// Process CPU seconds: on a loaded machine, GB/s per CPU-second of each thread says what the
// threads deliver while they run (a memory stall counts as running; being descheduled does not).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The last-level cache in bytes: the larger of what sysconf and sysfs report (a VM may
// report either the host's or its own share), 0 when neither knows.
std::int64_t last_level_cache_bytes() {
  std::int64_t bytes = std::max<long>(0, sysconf(_SC_LEVEL3_CACHE_SIZE));
  for (int index = 0; index < 8; ++index) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    std::string text;
    if (!(in >> text) || text.empty()) continue;
    std::int64_t value = std::atoll(text.c_str());
    if (text.back() == 'K') value <<= 10;
    if (text.back() == 'M') value <<= 20;
    bytes = std::max(bytes, value);
  }
  return bytes;
}

// Bytes per array: STREAM's rule is at least 4x the last-level cache, so that no array
// stays cached between sweeps; at least 64 MiB. ATTNBENCH_TRIAD_MIB overrides it.
std::int64_t array_bytes() {
  if (const char* mib = std::getenv("ATTNBENCH_TRIAD_MIB"))
    return std::max<std::int64_t>(1, std::atoll(mib)) << 20;
  return std::max<std::int64_t>(4 * last_level_cache_bytes(), std::int64_t{64} << 20);
}

template <class T>
void triad(T* __restrict a, const T* __restrict b, const T* __restrict c, T s, std::int64_t n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

template <class T>
void BM_triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t n = array_bytes() / static_cast<std::int64_t>(sizeof(T));
  // new T[] leaves the pages untouched: the first touch below, with the same static
  // schedule as the triad, places each thread's pages on its own NUMA node.
  std::unique_ptr<T[]> a(new T[n]), b(new T[n]), c(new T[n]);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    a[i] = T(0);
    b[i] = T(1);
    c[i] = T(2);
  }
  const T scalar = T(3);
  triad(a.get(), b.get(), c.get(), scalar, n, threads);  // warm-up, as STREAM drops its first pass
  // STREAM's byte convention: 3 arrays x element size per element (read b, read c, write a).
  // The write-allocate read of a that a cache without streaming stores adds is not
  // counted, as in STREAM, so the figure is comparable with published STREAM triads.
  const double bytes = 3.0 * static_cast<double>(n) * static_cast<double>(sizeof(T));
  double best = 1e300, total = 0;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    triad(a.get(), b.get(), c.get(), scalar, n, threads);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(a.get());
    benchmark::ClobberMemory();
    state.SetIterationTime(s);
    best = std::min(best, s);
    total += s;
  }
  // Every a[i] must be 1 + 3*2 = 7: a triad that was optimised away would not write it.
  if (a[n / 2] != T(7)) state.SkipWithError("triad result is wrong");
  state.counters["GB/s"] = bytes / best / 1e9;  // best of the iterations, as STREAM reports
  state.counters["GB/s_mean"] = bytes * static_cast<double>(state.iterations()) / total / 1e9;
  state.counters["GB/s_per_cpu_s"] =
      bytes * static_cast<double>(state.iterations()) / ((cpu_seconds() - cpu0) / threads) / 1e9;
  state.counters["array_MiB"] = static_cast<double>(n) * sizeof(T) / (1 << 20);
  state.counters["threads"] = threads;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int all = omp_get_num_procs();
  for (int threads : {1, all}) {
    benchmark::RegisterBenchmark("triad/fp32", BM_triad<float>)
        ->Arg(threads)
        ->UseManualTime()
        ->Iterations(10)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("triad/fp64", BM_triad<double>)
        ->Arg(threads)
        ->UseManualTime()
        ->Iterations(10)
        ->Unit(benchmark::kMillisecond);
    if (all == 1) break;  // one thread is all cores
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
