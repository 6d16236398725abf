// POSIX implementation of the checked writes (see durable_file.hpp).
#include "reports/durable_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace attnbench {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw OutputError(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

// write() until every byte is out; returns 0 or the errno of the failing call.
int write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;  // a signal (SIGINT/SIGTERM handler) interrupted the write
      return errno;
    }
    if (w == 0) return EIO;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

std::string parent_of(const std::string& path) {
  const fs::path p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Makes a rename durable: fsync of the folder holding the entry (best effort: some
// file systems refuse to open or sync a folder, which loses nothing a process kill could).
void sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Test hook for the fault suite: ATTNBENCH_FAULT_STALL_RENAME=results.json holds the
// finished temporary file of that name for 2 s before the rename, so a test can kill
// the process exactly inside an atomic rewrite.
void maybe_stall(const std::string& path) {
  const char* name = std::getenv("ATTNBENCH_FAULT_STALL_RENAME");
  if (name != nullptr && fs::path(path).filename() == name)
    std::this_thread::sleep_for(std::chrono::seconds(2));
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, "cannot create", errno);
  int err = write_all(fd, text.data(), text.size());
  const char* step = "cannot write";
  if (err == 0 && ::fsync(fd) != 0) err = errno, step = "cannot sync";
  if (::close(fd) != 0 && err == 0) err = errno, step = "cannot close";
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(tmp, step, err);
  }
  maybe_stall(path);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace (rename)", err);
  }
  sync_dir(parent_of(path));
}

void write_file_checked(const std::string& path, std::initializer_list<std::string_view> parts) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create", errno);
  int err = 0;
  for (const auto& part : parts)
    if (err == 0) err = write_all(fd, part.data(), part.size());
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) fail(path, "cannot write", err);
}

void probe_output_dir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(fmt::format("{}: {} folder cannot be created: {}", dir, what, ec.message()));
  if (!fs::is_directory(dir, ec)) throw OutputError(fmt::format("{}: {} is not a folder", dir, what));
  const std::string probe = (fs::path(dir) / fmt::format(".attnbench-probe-{}", ::getpid())).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw OutputError(fmt::format("{}: {} folder is not writable: {}", dir, what, std::strerror(errno)));
  // A few KiB, synced: a full file system refuses here rather than after the first case.
  const std::string block(4096, '\n');
  int err = write_all(fd, block.data(), block.size());
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  ::unlink(probe.c_str());
  if (err != 0)
    throw OutputError(fmt::format("{}: {} folder cannot be written: {}", dir, what, std::strerror(err)));
}

void AppendFile::open(const std::string& path) {
  close();
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, "cannot open for appending", errno);
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(const std::string& text) {
  if (fd_ < 0) throw OutputError(path_ + ": written after it was closed");
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (const int err = write_all(fd_, text.data(), text.size()); err != 0) {
    if (before >= 0 && ::ftruncate(fd_, before) != 0) {
      // The cut record stays; resume drops a last line without its newline.
    }
    fail(path_, "cannot write", err);
  }
}

void AppendFile::sync() {
  if (fd_ >= 0 && ::fsync(fd_) != 0) fail(path_, "cannot sync", errno);
}

void AppendFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(path_, "cannot close", errno);
}

}  // namespace attnbench
