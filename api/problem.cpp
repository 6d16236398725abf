// FLOP counting and the generic capability check shared by every backend.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "attnbench/backend.hpp"

namespace attnbench {

std::int64_t Problem::mask_batch_span() const {
  if (head_masks.empty()) return 1;
  const std::int64_t Hq = shape.heads_q;
  for (std::int64_t b = 1; b < shape.batch; ++b)
    for (std::int64_t h = 0; h < Hq; ++h)
      if (head_masks[static_cast<std::size_t>(b * Hq + h)] != head_masks[static_cast<std::size_t>(h)])
        return shape.batch;
  return 1;
}

std::int64_t Problem::mask_head_span() const {
  if (head_masks.empty()) return 1;
  const std::int64_t Hq = shape.heads_q;
  for (std::int64_t b = 0; b < shape.batch; ++b)
    for (std::int64_t h = 1; h < Hq; ++h)
      if (head_masks[static_cast<std::size_t>(b * Hq + h)] != head_masks[static_cast<std::size_t>(b * Hq)])
        return Hq;
  return 1;
}

double Problem::pairs() const {
  if (!mask) return 0.0;
  if (head_masks.empty())
    return static_cast<double>(mask->area()) * static_cast<double>(shape.batch * shape.heads_q);
  double sum = 0.0;
  for (const auto& m : head_masks) sum += static_cast<double>(m->area());
  return sum;
}

std::int64_t Problem::area() const {
  if (!mask) return 0;
  if (head_masks.empty()) return mask->area();
  const double per = pairs() / static_cast<double>(shape.batch * shape.heads_q);
  return static_cast<std::int64_t>(per * static_cast<double>(mask_batch_span() * mask_head_span()) + 0.5);
}

double Problem::density() const {
  if (!mask) return 0.0;
  if (head_masks.empty()) return mask->density();
  const double cells = static_cast<double>(shape.seqlen_q) * static_cast<double>(shape.seqlen_k) *
                       static_cast<double>(shape.batch * shape.heads_q);
  return cells > 0 ? pairs() / cells : 0.0;
}

double pass_flops(const Problem& p) {
  // Q·K^T costs 2·D per pair and P·V 2·Dv (DESIGN.md: fwd = 2·area·Hq·(D + Dv)·B), summed over
  // (batch, head) when the mask differs between them.
  const double dims = static_cast<double>(p.shape.head_dim + p.shape.value_dim());
  const double fwd = 2.0 * p.pairs() * dims;
  switch (p.pass) {
    case Pass::fwd: return fwd;
    case Pass::bwd: return 2.5 * fwd;
    case Pass::fwd_bwd: return 3.5 * fwd;
  }
  return fwd;
}

Support check_info(const BackendInfo& info, const Problem& p) {
  if (std::find(info.dtypes.begin(), info.dtypes.end(), p.dtype) == info.dtypes.end()) {
    std::vector<std::string_view> names;
    for (auto d : info.dtypes) names.push_back(to_string(d));
    return Support::no(
        fmt::format("dtype {} not supported (supports: {})", to_string(p.dtype), fmt::join(names, ", ")));
  }
  const auto d = p.shape.head_dim;
  if (!info.head_dims.empty()) {
    if (std::find(info.head_dims.begin(), info.head_dims.end(), d) == info.head_dims.end())
      return Support::no(
          fmt::format("head_dim {} not supported (supports: {})", d, fmt::join(info.head_dims, ", ")));
  } else if (info.head_dim_multiple > 1 && d % info.head_dim_multiple != 0) {
    return Support::no(
        fmt::format("head_dim {} not supported (needs a multiple of {})", d, info.head_dim_multiple));
  }
  if (!info.head_masks && !p.head_masks.empty())
    return Support::no(
        fmt::format("{}: masks that differ per batch element or head not supported "
                    "(it takes one mask for the whole batch)",
                    info.name));
  if (!info.bias && p.bias)
    return Support::no(fmt::format("{}: additive bias ({}) not supported", info.name, p.bias->label()));
  if (!info.masks.empty() && p.mask &&
      std::find(info.masks.begin(), info.masks.end(), p.mask->name()) == info.masks.end())
    return Support::no(
        fmt::format("mask {} not supported (supports: {})", p.mask->name(), fmt::join(info.masks, ", ")));
  if (std::find(info.passes.begin(), info.passes.end(), p.pass) == info.passes.end())
    return Support::no(fmt::format("pass {} not supported", to_string(p.pass)));
  if (!info.gqa && (p.shape.heads_q != p.shape.heads_kv || p.shape.heads_q != p.shape.value_heads()))
    return Support::no("grouped-query attention (heads_q != heads_kv) not supported");
  if (!info.separate_kv_heads && p.shape.value_heads() != p.shape.heads_kv)
    return Support::no(fmt::format("{}: heads_k != heads_v not supported (heads_k {}, heads_v {})", info.name,
                                   p.shape.heads_kv, p.shape.value_heads()));
  if (!info.head_dim_v && p.shape.value_dim() != p.shape.head_dim)
    return Support::no(fmt::format("{}: head_dim_v != head_dim not supported (head_dim {}, head_dim_v {})",
                                   info.name, p.shape.head_dim, p.shape.value_dim()));
  if (p.shape.value_dim() != p.shape.head_dim && info.head_dim_multiple > 1 &&
      p.shape.value_dim() % info.head_dim_multiple != 0)
    return Support::no(fmt::format("{}: head_dim_v {} not supported (needs a multiple of {})", info.name,
                                   p.shape.value_dim(), info.head_dim_multiple));
  return Support::yes();
}

}  // namespace attnbench
