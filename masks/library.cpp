// The mask catalogue and the dispatch from a MaskSpec to the builder of that mask.
#include "masks/library.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"

namespace attnbench {

const std::vector<MaskInfo>& mask_catalogue() {
  static const std::vector<MaskInfo> catalogue = masks::all_mask_infos();
  return catalogue;
}

std::vector<std::string> mask_names() {
  std::vector<std::string> names;
  for (const auto& m : mask_catalogue()) names.push_back(m.name);
  return names;
}

const MaskInfo* find_mask_info(const std::string& name) {
  for (const auto& m : mask_catalogue())
    if (m.name == name) return &m;
  return nullptr;
}

namespace {

// Checks the name, the parameter names and the lengths; returns the mask's library entry.
const masks::MaskEntry& checked_entry(const MaskSpec& spec, std::int64_t seqlen_q, std::int64_t seqlen_k) {
  const masks::MaskEntry* entry = nullptr;
  for (const auto& e : masks::all_mask_entries())
    if (e.info.name == spec.name) {
      entry = &e;
      break;
    }
  if (entry == nullptr)
    throw InputError(
        fmt::format("unknown mask '{}' (accepted: {})", spec.name, fmt::join(mask_names(), ", ")));
  const MaskInfo* info = &entry->info;
  for (const auto& [key, value] : spec.params) {
    bool known = false;
    for (const auto& p : info->params) known = known || p.name == key;
    if (!known) {
      std::vector<std::string> accepted;
      for (const auto& p : info->params) accepted.push_back(p.name);
      throw InputError(fmt::format("mask '{}': unknown parameter '{}' (accepted: {})", spec.name, key,
                                   accepted.empty() ? "none" : fmt::to_string(fmt::join(accepted, ", "))));
    }
  }
  if (seqlen_q <= 0 || seqlen_k <= 0)
    throw InputError(fmt::format("mask '{}': sequence lengths must be positive (got {} x {})", spec.name,
                                 seqlen_q, seqlen_k));
  if (!info->allows_unequal_seqlens && seqlen_q != seqlen_k)
    throw InputError(
        fmt::format("mask '{}' needs seqlen_q == seqlen_k (got {} and {})", spec.name, seqlen_q, seqlen_k));
  return *entry;
}

}  // namespace

MaskPtr build_mask(const MaskSpec& spec, std::int64_t seqlen_q, std::int64_t seqlen_k) {
  return checked_entry(spec, seqlen_q, seqlen_k).build(spec, seqlen_q, seqlen_k);
}

std::int64_t mask_area(const MaskSpec& spec, std::int64_t seqlen_q, std::int64_t seqlen_k) {
  const masks::MaskEntry& e = checked_entry(spec, seqlen_q, seqlen_k);
  return e.area != nullptr ? e.area(spec, seqlen_q, seqlen_k) : e.build(spec, seqlen_q, seqlen_k)->area();
}

}  // namespace attnbench
