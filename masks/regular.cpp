// The regular masks: full, causal, sliding windows and the two plain document masks.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "masks/builders.hpp"
#include "masks/documents.hpp"

namespace attnbench::masks {

namespace {

constexpr std::int64_t kMaxWindow = std::int64_t{1} << 40;

std::int64_t window_param(const MaskSpec& spec) { return int_param(spec, "window", 1024, 0, kMaxWindow); }

MaskPtr make_full(const MaskSpec&, std::int64_t sq, std::int64_t sk) {
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, sk, -kUnbounded, kUnbounded);
  std::optional<VarlenForm> varlen;
  if (sq == sk) varlen = VarlenForm{{0, sq}, -1, -1};
  return std::make_shared<Mask>(
      "full", sq, sk, ResolvedParams{}, std::move(slices), [](std::int64_t, std::int64_t) { return true; },
      varlen);
}

MaskPtr make_causal(const MaskSpec&, std::int64_t sq, std::int64_t sk) {
  const std::int64_t shift = sk - sq;  // bottom-right aligned
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, sk, -kUnbounded, shift);
  std::optional<VarlenForm> varlen;
  if (sq == sk) varlen = VarlenForm{{0, sq}, -1, 0};
  return std::make_shared<Mask>(
      "causal", sq, sk, ResolvedParams{}, std::move(slices),
      [shift](std::int64_t q, std::int64_t k) { return k <= q + shift; }, varlen);
}

MaskPtr make_sliding_window(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const std::int64_t w = window_param(spec), shift = sk - sq;
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, sk, shift - w, shift + w);
  std::optional<VarlenForm> varlen;
  if (sq == sk) varlen = VarlenForm{{0, sq}, w, w};
  return std::make_shared<Mask>(
      "sliding_window", sq, sk, ResolvedParams{{"window", std::to_string(w)}}, std::move(slices),
      [w, shift](std::int64_t q, std::int64_t k) { return std::llabs(q + shift - k) <= w; }, varlen);
}

MaskPtr make_causal_sliding_window(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const std::int64_t w = window_param(spec), shift = sk - sq;
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, sk, shift - w, shift);
  std::optional<VarlenForm> varlen;
  if (sq == sk) varlen = VarlenForm{{0, sq}, w, 0};
  return std::make_shared<Mask>(
      "causal_sliding_window", sq, sk, ResolvedParams{{"window", std::to_string(w)}}, std::move(slices),
      [w, shift](std::int64_t q, std::int64_t k) {
        const std::int64_t d = q + shift - k;
        return 0 <= d && d <= w;
      },
      varlen);
}

MaskPtr make_document(const MaskSpec& spec, std::int64_t s, bool causal) {
  auto docs = std::make_shared<const Documents>(resolve_documents(spec, s));
  std::vector<Slice> slices;
  for (std::int64_t i = 0; i < docs->count(); ++i)
    add_band(slices, docs->begin(i), docs->end(i), docs->begin(i), docs->end(i), -kUnbounded,
             causal ? 0 : kUnbounded);
  VarlenForm varlen{docs->starts, -1, causal ? 0 : -1};
  Mask::Predicate allowed;
  if (causal)
    allowed = [docs](std::int64_t q, std::int64_t k) {
      return docs->index_of(q) == docs->index_of(k) && k <= q;
    };
  else
    allowed = [docs](std::int64_t q, std::int64_t k) { return docs->index_of(q) == docs->index_of(k); };
  return std::make_shared<Mask>(spec.name, s, s, docs->params, std::move(slices), std::move(allowed),
                                std::move(varlen));
}

MaskPtr make_full_document(const MaskSpec& spec, std::int64_t sq, std::int64_t) {
  return make_document(spec, sq, false);
}
MaskPtr make_causal_document(const MaskSpec& spec, std::int64_t sq, std::int64_t) {
  return make_document(spec, sq, true);
}

}  // namespace

std::vector<MaskEntry> regular_masks() {
  const MaskParamInfo window{"window", "1024",
                             "tokens each side of the (bottom-right aligned) diagonal, >= 0"};
  return {
      {{"full", "regular", "always", {}, true}, make_full},
      {{"causal", "regular", "k <= q  (q + Sk - Sq when Sq != Sk: bottom-right aligned)", {}, true},
       make_causal},
      {{"sliding_window", "regular", "|q - k| <= w", {window}, true}, make_sliding_window},
      {{"causal_sliding_window", "regular", "0 <= q - k <= w", {window}, true}, make_causal_sliding_window},
      {{"full_document", "regular", "doc(q) == doc(k)", document_param_infos(), false}, make_full_document},
      {{"causal_document", "regular", "doc(q) == doc(k) && k <= q", document_param_infos(), false},
       make_causal_document},
  };
}

}  // namespace attnbench::masks
