// Formats "[done/total] label ... ETA" lines; the ETA is the mean case time so far times what is left.
#include "harness/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace attnbench {

namespace {
std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}
}  // namespace

Progress::Progress(std::size_t total, bool enabled, std::FILE* out)
    : total_(total), enabled_(enabled), tty_(isatty(fileno(out)) != 0), out_(out),
      begin_(std::chrono::steady_clock::now()) {}

void Progress::start(const Case& c, std::size_t done) {
  done_ = done;
  if (!enabled_ || !tty_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  const std::string eta = done > 0 ? " ETA " + duration(elapsed / done * (total_ - done)) : "";
  fmt::print(out_, "\r\033[K[{}/{}] {}{}", done + 1, total_, c.label(), eta);
  std::fflush(out_);
}

void Progress::finish(const Case& c, const ResultRow& r) {
  if (!enabled_ || tty_) return;
  std::string what = std::string(to_string(r.status));
  if (r.status == Status::ok || r.status == Status::mismatch)
    what += fmt::format(" {:.4g} ms {:.3g} TFLOP/s", r.time_ms, r.tflops);
  if (r.status != Status::ok && !r.message.empty()) what += " (" + r.message + ")";
  fmt::print(out_, "[{}/{}] {}: {}\n", done_ + 1, total_, c.label(), what);
  std::fflush(out_);
}

void Progress::close() {
  if (enabled_ && tty_) {
    fmt::print(out_, "\r\033[K");
    std::fflush(out_);
  }
}

}  // namespace attnbench
