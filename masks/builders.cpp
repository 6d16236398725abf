// The table of every mask of the library, gathered from the family files.
#include "masks/builders.hpp"

namespace attnbench::masks {

const std::vector<MaskEntry>& all_mask_entries() {
  static const std::vector<MaskEntry> entries = [] {
    std::vector<MaskEntry> all;
    for (const auto& family : {regular_masks(), heterogeneous_masks(), block_sparse_masks(),
                               user_slice_masks(), selector_masks(), per_head_masks()})
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

}  // namespace attnbench::masks
