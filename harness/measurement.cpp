// The two measurements the pipeline injects: the local timing loop, and the distributed one (max over ranks).
#include "harness/measurement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "harness/case_row.hpp"
#include "harness/instructions.hpp"
#include "harness/stats.hpp"

namespace attnbench {

namespace {

// The median of the samples that are not NaN (NaN when none is), as the row's time columns take it.
double median_of(std::vector<double> v) {
  std::erase_if(v, [](double x) { return std::isnan(x); });
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : percentile(std::move(v), 0.5);
}

std::string json_array(const std::vector<double>& v, double scale) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.6g}", i ? "," : "", v[i] * scale);
  return s + "]";
}

}  // namespace

TimingResult LocalMeasurement::time(const TimingConfig& cfg, Execution& exec) {
  if (cfg.metric == TimingMetric::instructions) {
    std::string why;
    InstructionCounter* counter = instruction_counter(&why);
    if (counter == nullptr) throw std::runtime_error("timing.metric instructions: no counter: " + why);
    return measure_counted(cfg, *counter, [&] { return exec.timed_run(); });
  }
  return measure(cfg, [&] { return exec.timed_run(); });
}

void LocalMeasurement::fill(ResultRow& row, const Problem& p, const TimingResult& t,
                            std::vector<Metric> metrics, double peak_bytes) {
  fill_timing(row, p, t);
  for (auto& m : metrics) row.extra.push_back(std::move(m));
  row.peak_mem_bytes = static_cast<std::int64_t>(peak_bytes);
}

DistributedTiming measure_distributed(const TimingConfig& cfg, Communicator& comm,
                                      const std::function<IterationTime()>& iteration) {
  for (int i = 0; i < cfg.warmup; ++i) iteration();
  DistributedTiming d;
  const int P = comm.size();
  d.per_rank.resize(static_cast<std::size_t>(P));
  TimingResult& r = d.max_over_ranks;
  const auto start = std::chrono::steady_clock::now();
  double measured = 0;
  // One allreduce (max) carries every rank's own time (one-hot slots [0, P), the
  // others 0: times are >= 0) and the maxima of the rest (slots P..P+3).
  std::vector<double> buf(static_cast<std::size_t>(P) + 4);
  while (true) {
    const IterationTime it = iteration();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fill(buf.begin(), buf.end(), 0.0);
    buf[comm.rank()] = it.seconds;
    // An execution without a compute/comm split reports NaN: -1 survives the max.
    double* mx = buf.data() + P;
    mx[0] = it.seconds;
    mx[1] = std::isnan(it.compute_seconds) ? -1.0 : it.compute_seconds;
    mx[2] = std::isnan(it.comm_seconds) ? -1.0 : it.comm_seconds;
    mx[3] = wall;
    comm.allreduce(buf.data(), buf.size(), ReduceOp::max);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int q = 0; q < P; ++q) d.per_rank[q].push_back(buf[q]);
    r.seconds.push_back(mx[0]);
    r.compute_seconds.push_back(mx[1] < 0 ? nan : mx[1]);
    r.comm_seconds.push_back(mx[2] < 0 ? nan : mx[2]);
    measured += mx[0];
    r.stop_reason = stop_rule(cfg, r.seconds, measured, mx[3]);  // values every rank shares
    if (!r.stop_reason.empty()) break;
  }
  return d;
}

TimingResult DistributedMeasurement::time(const TimingConfig& cfg, Execution& exec) {
  DistributedTiming d = measure_distributed(cfg, comm_, [&] {
    comm_.barrier();  // every rank starts the iteration together
    return exec.timed_run();
  });
  per_rank_ = std::move(d.per_rank);
  return std::move(d.max_over_ranks);
}

void DistributedMeasurement::fill(ResultRow& row, const Problem& p, const TimingResult& t,
                                  std::vector<Metric> metrics, double peak_bytes) {
  fill_timing(row, p, t);
  const int P = comm_.size();
  row.extra.push_back({"compute_ms", median_of(t.compute_seconds) * 1e3, {}});
  row.extra.push_back({"comm_ms", median_of(t.comm_seconds) * 1e3, {}});
  row.extra.push_back({"tflops_per_rank", row.tflops / P, {}});
  std::vector<double> rank_median(static_cast<std::size_t>(P));
  for (int r = 0; r < P && r < static_cast<int>(per_rank_.size()); ++r)
    rank_median[r] = median_of(per_rank_[r]);
  row.extra.push_back({"rank_time_ms", ResultRow::nan, json_array(rank_median, 1e3), true});
  // Bytes differ per rank: report the largest, and every rank's in the JSON.
  std::vector<double> bytes(static_cast<std::size_t>(P), 0.0);
  for (auto& m : metrics)
    if (m.name == "bytes_sent") bytes[comm_.rank()] = m.value;
  comm_.allreduce(bytes.data(), bytes.size(), ReduceOp::sum);
  for (auto& m : metrics) {
    if (m.name == "bytes_sent") {
      m.value = *std::max_element(bytes.begin(), bytes.end());
      row.extra.push_back(m);
      row.extra.push_back({"rank_bytes_sent", ResultRow::nan, json_array(bytes, 1.0), true});
    } else {
      row.extra.push_back(m);
    }
  }
  comm_.allreduce(&peak_bytes, 1, ReduceOp::max);
  row.peak_mem_bytes = static_cast<std::int64_t>(peak_bytes);
}

}  // namespace attnbench
