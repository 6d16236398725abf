// A machine file (DESIGN.md "Scale model"): link classes for alpha-beta costs, peak TFLOP/s, kernel profile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnbench::model {

// alpha: latency per message; gbps: GB/s (1e9 bytes/s) one direction per GPU.
struct Link {
  double alpha_us = 0, gbps = 0;
  // Seconds to send `bytes` as one message.
  double seconds(double bytes) const { return alpha_us * 1e-6 + bytes / (gbps * 1e9); }
};

// Kernel time per call: a_ms + b_ms_per_gwork * work / 1e9, work = allowed pairs x batch x query heads.
struct ProfileEntry {
  std::string backend;  // "*" matches any backend
  std::int64_t head_dim = 0;
  std::string dtype, pass;
  double a_ms = 0, b_ms_per_gwork = 0;
  int points = 0;  // rows it was fitted from (0: written by hand)
};

struct Machine {
  std::string name, path;
  int gpus_per_node = 8;
  Link intra, inter;
  double peak_tflops = 0;
  // Fraction of peak a kernel reaches when no profile entry matches (documented guess).
  double attention_efficiency = 0.5;
  std::vector<ProfileEntry> profile;
};

// Throws InputError "FILE: FIELD: ... (accepted: ...)" on a missing or bad field.
Machine load_machine(const std::string& path);
Machine parse_machine(const std::string& text, const std::string& path);
// YAML text of a machine (calibrate's output), with `comment` lines on top.
std::string machine_yaml(const Machine&, const std::vector<std::string>& comment);

}  // namespace attnbench::model
