// Documents of a packed sequence: explicit lengths or lengths sampled from a distribution.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "masks/builders.hpp"

namespace attnbench::masks {

struct Documents {
  std::vector<std::int64_t> starts;  // boundaries: document i is [starts[i], starts[i+1])
  ResolvedParams params;             // distribution, seed and the doc_lengths actually used

  std::int64_t count() const { return static_cast<std::int64_t>(starts.size()) - 1; }
  std::int64_t begin(std::int64_t i) const { return starts[i]; }
  std::int64_t end(std::int64_t i) const { return starts[i + 1]; }
  std::int64_t index_of(std::int64_t token) const {
    return (std::upper_bound(starts.begin(), starts.end(), token) - starts.begin()) - 1;
  }
};

// `doc_lengths` (wins when present: it is what a result row records) or `distribution`
// + `seed`; the default distribution is the LongCA-bench histogram for this length.
Documents resolve_documents(const MaskSpec&, std::int64_t seqlen);
// block_causal_document: every document but the last is a whole number of blocks;
// sampled documents are 1-8 blocks.
Documents resolve_block_documents(const MaskSpec&, std::int64_t seqlen, std::int64_t block);

// The parameter descriptions shared by every document mask.
std::vector<MaskParamInfo> document_param_infos();

}  // namespace attnbench::masks
