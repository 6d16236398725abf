// String forms of the vocabulary types (the same names in code, CLI, YAML and reports).
#include "attnbench/types.hpp"

#include <array>

namespace attnbench {

namespace {
template <class E, std::size_t N>
std::optional<E> parse_by_name(std::string_view s, const std::array<E, N>& all) {
  for (E e : all)
    if (to_string(e) == s) return e;
  return std::nullopt;
}
}  // namespace

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
    case Status::modelled: return "modelled";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view s) {
  return parse_by_name(s, std::array{DType::fp32, DType::fp64, DType::bf16, DType::fp16});
}
std::optional<Pass> parse_pass(std::string_view s) {
  return parse_by_name(s, std::array{Pass::fwd, Pass::bwd, Pass::fwd_bwd});
}
std::optional<Status> parse_status(std::string_view s) {
  return parse_by_name(s, std::array{Status::ok, Status::unsupported, Status::oom, Status::error,
                                     Status::mismatch, Status::skipped, Status::modelled});
}

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
