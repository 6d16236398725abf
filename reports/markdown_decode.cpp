// results.md's decode table: decode is memory-bound, so its figure is GB/s (bytes / median time), not
// TFLOP/s.
#include "reports/markdown_decode.hpp"

#include <fmt/format.h>

#include <cmath>

#include "reports/case_label.hpp"
#include "reports/markdown_writer.hpp"

namespace attnbench {

namespace {

// Bytes as the rows read them: "4.30 GB", "2.06 MB".
std::string bytes_text(double bytes) {
  if (!(bytes >= 0)) return "";
  if (bytes >= 1e9) return fmt::format("{:.2f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  return fmt::format("{:.0f} B", bytes);
}

std::string gbps_cell(const ResultRow& r) {
  const double gbps = r.extra_value("gbps");
  if (r.status != Status::ok || !(gbps >= 0)) return markdown_cell(r);  // the status mark, as the pivots
  return fmt::format("{:.3g}", gbps);
}

}  // namespace

bool is_decode_row(const ResultRow& r) {
  return r.pass == "fwd" && r.seqlen_q >= 1 && r.seqlen_q <= kDecodeMaxQueries && r.seqlen_k > r.seqlen_q;
}

std::string decode_markdown(const std::vector<ResultRow>& rows) {
  std::string body;
  for (const ResultRow& r : rows) {
    if (!is_decode_row(r)) continue;
    const std::string time = r.status == Status::ok ? fmt::format("{:.4g} ms", r.time_ms) : "";
    body += fmt::format("| {} | {} | B{} {} {} {} | {}×{} | {} | {} | {} |\n", r.backend,
                        mask_label(r.mask, r.mask_params), r.batch, heads_text(r), head_dim_text(r), r.dtype,
                        r.seqlen_q, r.seqlen_k, bytes_text(r.extra_value("bytes")), time, gbps_cell(r));
  }
  if (body.empty()) return "";
  return "\n## Decode (GB/s)\n\nForward rows with at most " + std::to_string(kDecodeMaxQueries) +
         " queries against a longer cache are memory-bound: `bytes` is the minimum traffic (Q, the K and V "
         "of the keys some query sees, O and LSE, in the case's dtype) and GB/s is bytes over the median "
         "time; set it against the machine's triad (bench/triad_bench, docs/decode.md).\n\n"
         "| backend | mask | shape | Sq×Sk | bytes | median | GB/s |\n|---|---|---|---:|---:|---:|---:|\n" +
         body;
}

}  // namespace attnbench
