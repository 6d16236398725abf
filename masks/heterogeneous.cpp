// The heterogeneous masks: shared question, causal blockwise, prefix LM, global + sliding window,
// streaming (attention sinks + recent window) and block-causal documents.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "attnbench/types.hpp"
#include "masks/builders.hpp"
#include "masks/documents.hpp"

namespace attnbench::masks {

namespace {

// Sinks and windows past any sequence are legal (they cover everything); the bound keeps
// q - r + 1 far from overflow.
constexpr std::int64_t kMaxStreamingParam = std::int64_t{1} << 40;

MaskPtr make_share_question(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  auto docs = std::make_shared<const Documents>(resolve_documents(spec, s));
  std::vector<Slice> slices;
  const std::int64_t question_end = docs->end(0);
  for (std::int64_t i = 0; i < docs->count(); ++i) {
    if (i > 0) slices.push_back({docs->begin(i), docs->end(i), 0, question_end, SliceType::full});
    add_band(slices, docs->begin(i), docs->end(i), docs->begin(i), docs->end(i), -kUnbounded, 0);
  }
  return std::make_shared<Mask>(spec.name, s, s, docs->params, std::move(slices),
                                [docs](std::int64_t q, std::int64_t k) {
                                  const auto dq = docs->index_of(q), dk = docs->index_of(k);
                                  return (dq == dk && k <= q) || (dq != 0 && dk == 0);
                                });
}

MaskPtr make_causal_blockwise(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  auto docs = std::make_shared<const Documents>(resolve_documents(spec, s));
  std::vector<Slice> slices;
  const std::int64_t last = docs->count() - 1;
  for (std::int64_t i = 0; i <= last; ++i) {
    if (i == last && last > 0)
      slices.push_back({docs->begin(i), docs->end(i), 0, docs->begin(i), SliceType::full});
    add_band(slices, docs->begin(i), docs->end(i), docs->begin(i), docs->end(i), -kUnbounded, 0);
  }
  return std::make_shared<Mask>(spec.name, s, s, docs->params, std::move(slices),
                                [docs, last](std::int64_t q, std::int64_t k) {
                                  const auto dq = docs->index_of(q), dk = docs->index_of(k);
                                  return (dq == dk && k <= q) || (dq == last && dk < last);
                                });
}

MaskPtr make_prefix_lm_causal(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const std::int64_t p = int_param(spec, "prefix", sk / 4, 0, sk), shift = sk - sq;
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, p, -kUnbounded, kUnbounded);
  add_band(slices, 0, sq, p, sk, -kUnbounded, shift);
  return std::make_shared<Mask>(
      spec.name, sq, sk, ResolvedParams{{"prefix", std::to_string(p)}}, std::move(slices),
      [p, shift](std::int64_t q, std::int64_t k) { return k <= q + shift || k < p; });
}

// A mask within documents, with one parameter of its own (listed before the documents'):
// within(q, k), with both indices relative to their document, decides pairs inside one document;
// no pair across documents is allowed.
template <class Within>
MaskPtr document_mask(const MaskSpec& spec, std::int64_t s, std::shared_ptr<const Documents> docs,
                      const char* param, std::int64_t value, std::vector<Slice> slices, Within within) {
  ResolvedParams params{{param, std::to_string(value)}};
  params.insert(params.end(), docs->params.begin(), docs->params.end());
  return std::make_shared<Mask>(spec.name, s, s, std::move(params), std::move(slices),
                                [docs, within](std::int64_t q, std::int64_t k) {
                                  const auto d = docs->index_of(q);
                                  if (d != docs->index_of(k)) return false;
                                  return within(q - docs->begin(d), k - docs->begin(d));
                                });
}

MaskPtr make_prefix_lm_document(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  const std::int64_t p = int_param(spec, "prefix", 256, 0, s);
  auto docs = std::make_shared<const Documents>(resolve_documents(spec, s));
  std::vector<Slice> slices;
  for (std::int64_t i = 0; i < docs->count(); ++i) {
    const std::int64_t b = docs->begin(i), e = docs->end(i), split = std::min(e, b + p);
    add_band(slices, b, e, b, split, -kUnbounded, kUnbounded);
    add_band(slices, b, e, split, e, -kUnbounded, 0);
  }
  return document_mask(spec, s, docs, "prefix", p, std::move(slices),
                       [p](std::int64_t ql, std::int64_t kl) { return kl <= ql || kl < p; });
}

MaskPtr make_global_sliding_window(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const std::int64_t g = int_param(spec, "global", 128, 0, sk);
  const std::int64_t w = int_param(spec, "window", 1024, 0, std::int64_t{1} << 40), shift = sk - sq;
  // Global query rows (q + shift < g) see everything; the other rows see the global keys
  // plus their window beyond them.
  const std::int64_t global_rows = std::clamp<std::int64_t>(g - shift, 0, sq);
  std::vector<Slice> slices;
  add_band(slices, 0, global_rows, 0, sk, -kUnbounded, kUnbounded);
  add_band(slices, global_rows, sq, 0, g, -kUnbounded, kUnbounded);
  add_band(slices, global_rows, sq, g, sk, shift - w, shift + w);
  return std::make_shared<Mask>(spec.name, sq, sk,
                                ResolvedParams{{"global", std::to_string(g)}, {"window", std::to_string(w)}},
                                std::move(slices), [g, w, shift](std::int64_t q, std::int64_t k) {
                                  return q + shift < g || k < g || std::llabs(q + shift - k) <= w;
                                });
}

// DuoAttention's streaming heads: causal, and either one of the first `sink` keys or one of the
// `recent` newest keys up to the query (q - k < recent, so recent >= 1 keeps the diagonal).
// Bottom-right aligned like causal: with Sq != Sk the queries are the last Sq positions of the
// keys (a decode step against a cache), so row q stands at position q + Sk - Sq.
MaskPtr make_streaming(const MaskSpec& spec, std::int64_t sq, std::int64_t sk) {
  const std::int64_t s = int_param(spec, "sink", 128, 0, kMaxStreamingParam);
  const std::int64_t r = int_param(spec, "recent", 256, 1, kMaxStreamingParam), shift = sk - sq;
  const std::int64_t sink_end = std::min(s, sk);
  std::vector<Slice> slices;
  add_band(slices, 0, sq, 0, sink_end, -kUnbounded, shift);
  add_band(slices, 0, sq, sink_end, sk, shift - r + 1, shift);
  return std::make_shared<Mask>(spec.name, sq, sk,
                                ResolvedParams{{"sink", std::to_string(s)}, {"recent", std::to_string(r)}},
                                std::move(slices), [s, r, shift](std::int64_t q, std::int64_t k) {
                                  const std::int64_t d = q + shift - k;
                                  return d >= 0 && (k < s || d < r);
                                });
}

MaskPtr make_block_causal_document(const MaskSpec& spec, std::int64_t s, std::int64_t) {
  const std::int64_t b = int_param(spec, "block", 128, 1, std::int64_t{1} << 30);
  auto docs = std::make_shared<const Documents>(resolve_block_documents(spec, s, b));
  std::vector<Slice> slices;
  for (std::int64_t i = 0; i < docs->count(); ++i) {
    const std::int64_t begin = docs->begin(i), end = docs->end(i);
    for (std::int64_t r = begin; r < end; r += b) {
      const std::int64_t r_end = std::min(end, r + b);
      slices.push_back({r, r_end, begin, r_end, SliceType::full});
    }
  }
  return document_mask(spec, s, docs, "block", b, std::move(slices),
                       [b](std::int64_t ql, std::int64_t kl) { return kl / b <= ql / b; });
}

}  // namespace

std::vector<MaskEntry> heterogeneous_masks() {
  auto with_docs = [](std::vector<MaskParamInfo> own) {
    auto docs = document_param_infos();
    own.insert(own.end(), docs.begin(), docs.end());
    return own;
  };
  const MaskParamInfo window{"window", "1024", "tokens each side of the diagonal, >= 0"};
  return {
      {{"share_question", "heterogeneous",
        "(doc(q) == doc(k) && k <= q) || (doc(q) != 0 && doc(k) == 0)  (document 0 is the question)",
        document_param_infos(), false},
       make_share_question},
      {{"causal_blockwise", "heterogeneous",
        "(doc(q) == doc(k) && k <= q) || (doc(q) == last && doc(k) < last)  (the last document is the query)",
        document_param_infos(), false},
       make_causal_blockwise},
      {{"prefix_lm_causal",
        "heterogeneous",
        "k <= q || k < P",
        {{"prefix", "Sk/4", "prefix length P in [0, Sk]; default a quarter of the keys"}},
        true},
       make_prefix_lm_causal},
      {{"prefix_lm_document", "heterogeneous",
        "doc(q) == doc(k) && (kl <= ql || kl < P)  (ql, kl: offsets inside the document)",
        with_docs({{"prefix", "256", "prefix length P inside each document, in [0, S]"}}), false},
       make_prefix_lm_document},
      {{"global_sliding_window",
        "heterogeneous",
        "q < g || k < g || |q - k| <= w",
        {{"global", "128", "global tokens g in [0, Sk]"}, window},
        true},
       make_global_sliding_window},
      {{"streaming",
        "heterogeneous",
        "k <= q && (k < s || q - k < r)  (bottom-right aligned when Sq != Sk)",
        {{"sink", "128", "attention-sink keys s at the start, in [0, 2^40]; 0: window only"},
         {"recent", "256", "recent keys r up to and including the query, in [1, 2^40]"}},
        true},
       make_streaming},
      {{"block_causal_document",
        "heterogeneous",
        "doc(q) == doc(k) && kl / b <= ql / b",
        {{"block", "128", "block size b >= 1; documents are whole blocks (the last may be cut)"},
         {"doc_lengths", "", "explicit lengths, multiples of block except the last (sum = S)"},
         {"seed", "0", "seed of the sampled documents (1-8 blocks each)"}},
        false},
       make_block_causal_document},
  };
}

}  // namespace attnbench::masks
