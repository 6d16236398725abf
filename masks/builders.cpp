// The table of every mask of the library, gathered from the family files, and the dispatch to builders.
#include "masks/builders.hpp"

#include <fmt/format.h>

#include "attnbench/types.hpp"

namespace attnbench::masks {

const std::vector<MaskEntry>& all_mask_entries() {
  static const std::vector<MaskEntry> entries = [] {
    std::vector<MaskEntry> all;
    for (auto family : {regular_masks(), heterogeneous_masks(), block_sparse_masks(), user_slice_masks()})
      all.insert(all.end(), family.begin(), family.end());
    return all;
  }();
  return entries;
}

std::vector<MaskInfo> all_mask_infos() {
  std::vector<MaskInfo> infos;
  for (const auto& e : all_mask_entries()) infos.push_back(e.info);
  return infos;
}

MaskPtr build(const MaskInfo& info, const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  for (const auto& e : all_mask_entries())
    if (e.info.name == info.name) return e.build(spec, sq, sk);
  throw InputError(fmt::format("mask '{}' has no builder", info.name));
}

}  // namespace attnbench::masks
