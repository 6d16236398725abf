// Checked, durable file writes: atomic whole-file replacement, an append-only file whose every write is
// checked, folder probes.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "attnbench/types.hpp"

namespace attnbench {

// A write that failed (full disk, unwritable path, I/O error): bad environment, so the
// CLI exits 2 with this one line, which names the path and the system's reason.
struct OutputError : InputError {
  using InputError::InputError;
};

// Replaces `path` with `text` atomically: a temporary file in the same folder
// (PATH.tmp), every write and the close checked, fsync, rename over `path`, fsync of
// the folder. A reader (or a process killed mid-write) sees the old file or the new
// one, never half of one. Throws OutputError; the temporary file is removed on failure.
void write_file_atomic(const std::string& path, const std::string& text);

// Writes `parts` one after another into `path` (replaced, not atomic: tensor dumps,
// too large to hold twice), every write and the close checked. Throws OutputError.
void write_file_checked(const std::string& path, std::initializer_list<std::string_view> parts);

// Creates `dir` (and its parents) and proves a file can be written, synced and
// removed there; throws OutputError naming `dir` and `what` (e.g. "--out") otherwise.
void probe_output_dir(const std::string& dir, const std::string& what);

// A file written by appending whole records: each append is one checked write()
// to the OS (so a killed process loses no appended record); an append that fails
// (full disk) is cut back to the previous end, so the file never holds half a record.
class AppendFile {
 public:
  AppendFile() = default;
  // Opens `path` for appending (created when absent; never truncated).
  explicit AppendFile(const std::string& path) { open(path); }
  void open(const std::string& path);  // throws OutputError
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(const std::string& text);  // throws OutputError
  void sync();                           // fsync; throws OutputError
  void close();                          // checked close; throws OutputError
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace attnbench
