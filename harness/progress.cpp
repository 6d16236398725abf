// Formats "[done/total] label ... ETA" lines; the ETA sums a prediction per case left (harness/eta.hpp).
#include "harness/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace attnbench {

namespace {
std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}
}  // namespace

Progress::Progress(const std::vector<Case>& to_run, bool enabled, std::FILE* out)
    : total_(to_run.size()),
      enabled_(enabled),
      tty_(isatty(fileno(out)) != 0),
      out_(out),
      begin_(std::chrono::steady_clock::now()),
      case_begin_(begin_) {
  plan_.reserve(to_run.size());
  for (const auto& c : to_run) {
    plan_.push_back({c.backend + " " + std::string(to_string(c.problem.pass)), pass_flops(c.problem)});
    left_[plan_.back().group].cases += 1;
    left_[plan_.back().group].work += plan_.back().work;
  }
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
}

// "elapsed 1m05s, ETA 3m10s": the ETA, shown once a case has finished, is the sum over the cases left
// of each one's predicted time, from the finished cases of its backend and pass (a larger sequence length
// later in the sweep is priced by its FLOPs, not by the mean of the small cases before it).
std::string Progress::timing(std::size_t finished) const {
  const double e = elapsed();
  std::string t = "elapsed " + duration(e);
  if (finished > 0 && finished < total_ && !eta_.empty()) {
    double left = 0;  // left_ holds the cases from `finished` on: finish() takes each one out
    for (const auto& [group, l] : left_)
      if (l.cases > 0) left += eta_.predict(group, std::max(0.0, l.work), l.cases);
    t += ", ETA " + duration(left);
  }
  return t;
}

void Progress::start(const Case& c, std::size_t done) {
  done_ = done;
  case_begin_ = std::chrono::steady_clock::now();
  if (!enabled_ || !tty_) return;
  fmt::print(out_, "\r\033[K[{}/{}] {} ({})", done + 1, total_, c.label(), timing(done));
  std::fflush(out_);
}

void Progress::finish(const Case& c, const ResultRow& r) {
  if (done_ < plan_.size()) {
    const Planned& p = plan_[done_];
    eta_.add(p.group, p.work,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - case_begin_).count());
    Left& l = left_[p.group];
    l.cases -= 1;
    l.work -= p.work;
  }
  if (!enabled_ || tty_) return;
  std::string what = std::string(to_string(r.status));
  if (r.status == Status::ok || r.status == Status::mismatch)
    what += fmt::format(" {:.4g} ms {:.3g} TFLOP/s", r.time_ms, r.tflops);
  if (r.status != Status::ok && !r.message.empty()) what += " (" + r.message + ")";
  fmt::print(out_, "[{}/{}] {}: {} ({})\n", done_ + 1, total_, c.label(), what, timing(done_ + 1));
  std::fflush(out_);
}

void Progress::close() {
  if (!enabled_) return;
  if (tty_) fmt::print(out_, "\r\033[K");
  fmt::print(out_, "attnbench: {} cases in {} wall time\n", total_, duration(elapsed()));
  std::fflush(out_);
}

}  // namespace attnbench
