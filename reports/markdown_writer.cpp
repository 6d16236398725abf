// Builds the study-style pivot tables of results.md, with a legend for the status marks.
#include "reports/markdown_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace attnbench {

namespace {

// Column of a row: the backend, or backend + strategy × world size for CP rows.
std::string column_of(const ResultRow& r) {
  if (r.strategy == "none") return r.backend;
  return fmt::format("{} {}×{}", r.backend, r.strategy, r.world_size);
}

std::string mask_title(const ResultRow& r) {
  return r.mask_params == "{}" || r.mask_params.empty() ? r.mask : r.mask + " " + r.mask_params;
}

std::string seq_label(const ResultRow& r) {
  std::string s = std::to_string(r.seqlen_q);
  if (r.seqlen_k != r.seqlen_q) s += "×" + std::to_string(r.seqlen_k);
  return s;
}

std::string shape_label(const ResultRow& r) {
  return fmt::format("B={} Hq={} Hkv={} D={} {}", r.batch, r.heads_q, r.heads_kv, r.head_dim, r.dtype);
}

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

}  // namespace

// Three significant digits without exponents: 312, 45.6, 1.23, 0.0787.
std::string tflops_text(double v) {
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  if (v >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3g}", v);
}

std::string markdown_cell(const ResultRow& r) {
  switch (r.status) {
    case Status::ok: return tflops_text(r.tflops);
    case Status::mismatch: return "✗ " + tflops_text(r.tflops);
    case Status::unsupported: return "—";
    case Status::oom: return "OOM";
    case Status::error: return "ERR";
    case Status::skipped: return "skip";
  }
  return "?";
}

std::string results_markdown(const std::string& title, const std::vector<ResultRow>& rows) {
  std::string md = fmt::format("# {}\n\nTFLOP/s (FLOPs of allowed pairs only, median time).\n", title);
  // Group: pass → shape → mask → table; order of first appearance.
  std::vector<std::string> passes, shapes, masks;
  for (const auto& r : rows) {
    add_unique(passes, r.pass);
    add_unique(shapes, shape_label(r));
    add_unique(masks, mask_title(r));
  }
  for (const auto& pass : passes)
    for (const auto& shape : shapes)
      for (const auto& mask : masks) {
        std::vector<std::string> cols, seqs;
        std::map<std::pair<std::string, std::string>, std::string> cell;
        for (const auto& r : rows) {
          if (r.pass != pass || shape_label(r) != shape || mask_title(r) != mask) continue;
          add_unique(cols, column_of(r));
          add_unique(seqs, seq_label(r));
          cell[{seq_label(r), column_of(r)}] = markdown_cell(r);
        }
        if (cols.empty()) continue;
        md += fmt::format("\n## {} · {} · {}\n\n| seqlen |", pass, mask, shape);
        for (const auto& c : cols) md += " " + c + " |";
        md += "\n|---:|";
        for (std::size_t i = 0; i < cols.size(); ++i) md += "---:|";
        md += "\n";
        for (const auto& s : seqs) {
          md += "| " + s + " |";
          for (const auto& c : cols) {
            auto it = cell.find({s, c});
            md += " " + (it == cell.end() ? std::string("") : it->second) + " |";
          }
          md += "\n";
        }
      }
  md +=
      "\nLegend: numbers are TFLOP/s of status `ok` rows; `✗ n` mismatch (ran, failed the "
      "correctness check); `—` unsupported; `OOM` out of memory or over the budget; `ERR` the "
      "backend threw; `skip` filtered or beyond a limit. Messages are in results.csv.\n";
  return md;
}

void write_results_markdown(const std::string& path, const std::string& title,
                            const std::vector<ResultRow>& rows) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << results_markdown(title, rows);
}

}  // namespace attnbench
