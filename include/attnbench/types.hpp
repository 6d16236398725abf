// Small vocabulary types shared by every part of attnbench: dtypes, passes, devices, statuses.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attnbench {

enum class DType { fp32, fp64, bf16, fp16 };
enum class Pass { fwd, bwd, fwd_bwd };
enum class Device { cpu, cuda };

// Disposition of one case (DESIGN.md "Result row").
enum class Status { ok, unsupported, oom, error, mismatch, skipped };

std::string_view to_string(DType);
std::string_view to_string(Pass);
std::string_view to_string(Device);
std::string_view to_string(Status);

std::optional<DType> parse_dtype(std::string_view);
std::optional<Pass> parse_pass(std::string_view);
std::optional<Status> parse_status(std::string_view);

// Every value of an enum, in declaration order; the one list that parse_* and
// messages' accepted-value lists derive from.
template <class E>
std::span<const E> all_values();
template <>
std::span<const DType> all_values<DType>();
template <>
std::span<const Pass> all_values<Pass>();
template <>
std::span<const Device> all_values<Device>();
template <>
std::span<const Status> all_values<Status>();

// "ok, unsupported, oom, ..." for the "(accepted: ...)" part of an error message.
template <class E>
std::string accepted_names() {
  std::string s;
  for (E e : all_values<E>()) {
    if (!s.empty()) s += ", ";
    s += to_string(e);
  }
  return s;
}

// Bytes of one element as a backend stores it.
std::size_t dtype_size(DType);

// Whether a pass computes the forward output / the gradients.
inline bool pass_has_forward(Pass p) { return p != Pass::bwd; }
inline bool pass_has_backward(Pass p) { return p != Pass::fwd; }

// Thrown by any allocation that would exceed the case's memory budget, or
// when the device itself is out of memory: the runner turns it into an `oom` row.
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown for bad user input (scenario, CLI, mask parameters): one line that
// names the place, the field and the accepted values; the CLI exits with 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace attnbench
