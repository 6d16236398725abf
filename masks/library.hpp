// The mask library: names, parameters with defaults, and builders from a spec to a Mask.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attnbench/mask.hpp"

namespace attnbench {

// A mask as a user writes it: a name and raw parameter values (YAML/JSON text:
// "256", "pile", "[100, 200]", or a flow list of slice maps).
struct MaskSpec {
  std::string name;
  std::map<std::string, std::string> params;
};

struct MaskParamInfo {
  std::string name;
  std::string default_value;  // shown by `attnbench list masks`; empty: required or derived
  std::string description;
};

struct MaskInfo {
  std::string name;
  std::string family;      // regular, heterogeneous, block-sparse, user
  std::string definition;  // the predicate, as in DESIGN.md's table
  std::vector<MaskParamInfo> params;
  bool allows_unequal_seqlens = true;  // Sq != Sk
};

// Builds the mask for (Sq, Sk). Unknown names, unknown or out-of-range
// parameters throw InputError naming the mask, the parameter and the accepted range.
MaskPtr build_mask(const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k);
// The exact area alone, with the same checks; fast for block-sparse masks at long
// sequences, where the full slice list would be large.
std::int64_t mask_area(const MaskSpec&, std::int64_t seqlen_q, std::int64_t seqlen_k);

const std::vector<MaskInfo>& mask_catalogue();
std::vector<std::string> mask_names();
const MaskInfo* find_mask_info(const std::string& name);

}  // namespace attnbench
