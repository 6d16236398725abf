// String forms of the vocabulary types (the same names in code, CLI, YAML and reports).
#include "attnbench/types.hpp"

#include <array>

namespace attnbench {

namespace {
template <class E>
std::optional<E> parse_by_name(std::string_view s) {
  for (E e : all_values<E>())
    if (to_string(e) == s) return e;
  return std::nullopt;
}

constexpr std::array kDTypes{DType::fp32, DType::fp64, DType::bf16, DType::fp16};
constexpr std::array kPasses{Pass::fwd, Pass::bwd, Pass::fwd_bwd};
constexpr std::array kDevices{Device::cpu, Device::cuda};
constexpr std::array kStatuses{Status::ok,    Status::unsupported, Status::oom,
                               Status::error, Status::mismatch,    Status::skipped};
}  // namespace

template <>
std::span<const DType> all_values<DType>() {
  return kDTypes;
}
template <>
std::span<const Pass> all_values<Pass>() {
  return kPasses;
}
template <>
std::span<const Device> all_values<Device>() {
  return kDevices;
}
template <>
std::span<const Status> all_values<Status>() {
  return kStatuses;
}

std::string_view to_string(DType d) {
  switch (d) {
    case DType::fp32: return "fp32";
    case DType::fp64: return "fp64";
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
  }
  return "?";
}

std::string_view to_string(Pass p) {
  switch (p) {
    case Pass::fwd: return "fwd";
    case Pass::bwd: return "bwd";
    case Pass::fwd_bwd: return "fwd_bwd";
  }
  return "?";
}

std::string_view to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

std::string_view to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::unsupported: return "unsupported";
    case Status::oom: return "oom";
    case Status::error: return "error";
    case Status::mismatch: return "mismatch";
    case Status::skipped: return "skipped";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view s) { return parse_by_name<DType>(s); }
std::optional<Pass> parse_pass(std::string_view s) { return parse_by_name<Pass>(s); }
std::optional<Status> parse_status(std::string_view s) { return parse_by_name<Status>(s); }

std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::fp32: return 4;
    case DType::fp64: return 8;
    case DType::bf16:
    case DType::fp16: return 2;
  }
  return 0;
}

}  // namespace attnbench
