// Builds the study-style pivot tables of results.md, with a legend for the status marks.
#include "reports/markdown_writer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "harness/schema/result_fields.hpp"
#include "reports/durable_file.hpp"
#include "reports/padding_table.hpp"
#include "reports/case_label.hpp"
#include "reports/markdown_decode.hpp"
#include "reports/quality_table.hpp"
#include "reports/dynamic_table.hpp"

namespace attnbench {

namespace {

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

std::string shape_label(const ResultRow& r) {
  return fmt::format("B={} Hq={} Hkv={}{} D={}{} {}", r.batch, r.heads_q, r.heads_kv, value_heads_field(r),
                     r.head_dim, value_dim_field(r), r.dtype);
}

// The passes in their natural order, anything else after them.
int pass_rank(const std::string& p) {
  if (p == "fwd") return 0;
  if (p == "bwd") return 1;
  if (p == "fwd_bwd") return 2;
  return 3;
}

// One table: a pass, a mask, a shape, and either the kernels or the CP rows.
struct TableKey {
  std::string pass, mask, shape;
  bool cp = false;
  auto tie() const { return std::tie(pass, mask, shape, cp); }
  bool operator==(const TableKey& o) const { return tie() == o.tie(); }
};

struct Column {
  std::string backend, strategy;
  int world_size = 1;
  std::string options;  // strategy options (balance, ulysses_degree...), "" when none
};

std::string options_of(const ResultRow& r) {
  const Metric* m = r.find_extra("options");
  return m && m->text != "{}" ? m->text : "";
}

// CP columns read "ring×2"; the backend joins the name when the table mixes several.
std::string column_name(const Column& c, bool cp, bool several_backends) {
  if (!cp) return c.backend;
  std::string s = fmt::format("{}×{}", c.strategy, c.world_size);
  if (!c.options.empty()) s = mask_label(s, c.options);
  return several_backends ? c.backend + " " + s : s;
}

std::string render_table(const TableKey& key, const std::vector<const ResultRow*>& rows, bool show_shape,
                         double noise_limit_pct) {
  std::vector<std::string> strategies;  // first appearance orders CP columns by strategy
  std::set<std::string> backends;
  for (const auto* r : rows) add_unique(strategies, r->strategy), backends.insert(r->backend);
  std::vector<Column> cols;
  auto col_index = [&](const ResultRow& r) {
    for (std::size_t i = 0; i < cols.size(); ++i)
      if (cols[i].backend == r.backend && cols[i].strategy == r.strategy &&
          cols[i].world_size == r.world_size && cols[i].options == options_of(r))
        return i;
    cols.push_back({r.backend, r.strategy, r.world_size, options_of(r)});
    return cols.size() - 1;
  };
  std::map<std::pair<std::int64_t, std::int64_t>, std::map<std::size_t, const ResultRow*>> grid;
  for (const auto* r : rows) grid[{r->seqlen_q, r->seqlen_k}][col_index(*r)] = r;

  // Kernel columns keep the scenario's order; CP columns go strategy by strategy, world size up.
  std::vector<std::size_t> col_order(cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) col_order[i] = i;
  if (key.cp)
    std::stable_sort(col_order.begin(), col_order.end(), [&](std::size_t a, std::size_t b) {
      auto rank = [&](const Column& c) {
        return std::make_tuple(
            std::find(strategies.begin(), strategies.end(), c.strategy) - strategies.begin(), c.world_size);
      };
      return rank(cols[a]) < rank(cols[b]);
    });

  std::string md = fmt::format("\n### {}{}{}\n\n| seqlen |", key.mask, key.cp ? " · context parallel" : "",
                               show_shape ? " · " + key.shape : "");
  for (auto i : col_order) md += " " + column_name(cols[i], key.cp, backends.size() > 1) + " |";
  md += "\n|---:|";
  for (std::size_t i = 0; i < cols.size(); ++i) md += "---:|";
  md += "\n";
  for (const auto& [seq, cells] : grid) {
    double best = 0.0;
    int ok_cells = 0;
    for (const auto& [_, r] : cells)
      if (r->status == Status::ok && r->tflops > 0 && !doubtful_row(*r, noise_limit_pct))
        best = std::max(best, r->tflops), ++ok_cells;
    md += seq.first == seq.second ? fmt::format("| {} |", seq.first)
                                  : fmt::format("| {}×{} |", seq.first, seq.second);
    for (auto i : col_order) {
      auto it = cells.find(i);
      std::string text = it == cells.end() ? "" : markdown_cell(*it->second, noise_limit_pct);
      // The fastest cell of a row stands out, as in the study's tables; a doubtful one never does.
      if (it != cells.end() && ok_cells > 1 && it->second->status == Status::ok &&
          it->second->tflops == best && !doubtful_row(*it->second, noise_limit_pct))
        text = "**" + text + "**";
      md += " " + text + " |";
    }
    md += "\n";
  }
  return md;
}

// The unit of the cells: the `tflops` column's, from the field table.
const std::string& cell_unit() { return find_field("tflops")->hint; }

// "Run DATE on HOST (CPU, N cores), revision REV, scenario NAME (PATH)": what a reader needs
// first to judge the numbers; empty without a context.
std::string run_line(const std::string& title, const Context& context) {
  if (context.empty()) return "";
  auto value = [&](const std::string& key) -> std::string {
    for (const auto& [k, text] : context)
      if (k == key) {
        const auto j = nlohmann::json::parse(text, nullptr, false);
        return j.is_string() ? j.get<std::string>() : j.is_discarded() ? text : j.dump();
      }
    return "unknown";
  };
  return fmt::format("\nRun {} on {} ({}, {} cores), revision `{}`, scenario `{}` ({}).\n", value("date"),
                     value("host"), value("cpu_model"), value("cores"), value("git_revision"), title,
                     value("scenario_path"));
}

std::string time_and_noise(const ResultRow& r) {
  if (!(r.time_ms > 0)) return "";
  std::string s = fmt::format(" · {:.3g} ms", r.time_ms);
  if (r.noise_pct >= 0)
    s += r.noise_pct >= 1 ? fmt::format(" ±{:.0f} %", r.noise_pct) : fmt::format(" ±{:.1f} %", r.noise_pct);
  return s;
}

}  // namespace

std::string format_tflops(double tflops) {
  if (!(tflops >= 0)) return "n/a";
  if (tflops >= 100) return fmt::format("{:.0f}", tflops);
  if (tflops >= 10) return fmt::format("{:.1f}", tflops);
  if (tflops >= 1) return fmt::format("{:.2f}", tflops);
  // CPU backends run at a few GFLOP/s: keep three significant digits.
  return fmt::format("{:.3g}", tflops);
}

bool doubtful_row(const ResultRow& r, double noise_limit_pct) {
  const Metric* stop = r.find_extra("stop_reason");
  return r.status == Status::ok && stop != nullptr &&
         (stop->text == "max_iters" || stop->text == "timeout") && r.noise_pct > noise_limit_pct;
}

std::string markdown_cell(const ResultRow& r, double noise_limit_pct) {
  switch (r.status) {
    case Status::ok:
      return format_tflops(r.tflops) + time_and_noise(r) + (doubtful_row(r, noise_limit_pct) ? " ⚠" : "");
    case Status::mismatch: return "✗ " + format_tflops(r.tflops);
    case Status::unsupported: return "—";
    case Status::oom: return "OOM";
    case Status::error: return "ERR";
    case Status::skipped: return "skip";
    case Status::modelled: return "≈ " + format_tflops(r.tflops);  // predicted, not run
  }
  return "?";
}

std::string results_markdown(const std::string& title, const std::vector<ResultRow>& rows,
                             const MarkdownOptions& options) {
  std::string md = fmt::format(
      "# {}\n{}\n{} (FLOPs of allowed pairs only, median time) · median time ±noise (relative stddev "
      "of the iterations); rows are sequence lengths, columns backends (context-parallel tables: "
      "strategy × world size); the fastest ok cell of a row is in bold.\n",
      title, run_line(title, options.context), cell_unit());
  std::set<std::string> shapes;
  for (const auto& r : rows) shapes.insert(shape_label(r));
  const bool show_shape = shapes.size() > 1;
  if (shapes.size() == 1) md += fmt::format("\nShape: {}.\n", *shapes.begin());

  // Tables in order of first appearance within each pass, kernels before CP.
  std::vector<TableKey> tables;
  std::vector<std::vector<const ResultRow*>> table_rows;
  for (const auto& r : rows) {
    TableKey k{r.pass, row_mask_label(r), shape_label(r), r.strategy != "none"};
    auto it = std::find(tables.begin(), tables.end(), k);
    if (it == tables.end()) {
      tables.push_back(k);
      table_rows.emplace_back();
      it = tables.end() - 1;
    }
    table_rows[static_cast<std::size_t>(it - tables.begin())].push_back(&r);
  }
  std::vector<std::size_t> order(tables.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::make_tuple(pass_rank(tables[a].pass), tables[a].pass, tables[a].cp) <
           std::make_tuple(pass_rank(tables[b].pass), tables[b].pass, tables[b].cp);
  });
  std::string pass;
  for (auto i : order) {
    if (tables[i].pass != pass) md += fmt::format("\n## {}\n", pass = tables[i].pass);
    md += render_table(tables[i], table_rows[i], show_shape, options.noise_limit_pct);
  }
  md += decode_markdown(rows);
  md += quality_markdown(rows);
  md += dynamic_markdown(rows);
  md += padding_waste_markdown(rows);  // empty unless the scenario has batching
  md += "\nLegend: numbers are " + cell_unit() +
        " of status `ok` rows, then median time ±noise; **bold** the "
        "fastest in its row; `⚠` doubtful: timing stopped on max_iters or timeout with noise above " +
        fmt::format("{:g}", options.noise_limit_pct) +
        " % (never bold); `✗ n` "
        "mismatch (ran, failed the correctness check); `—` unsupported; `OOM` out of memory or over "
        "the budget; `ERR` the backend threw; `skip` filtered or beyond a limit; empty: not in the "
        "sweep. Messages are in results.csv.\n";
  return md;
}

void write_results_markdown(const std::string& path, const std::string& title,
                            const std::vector<ResultRow>& rows, const MarkdownOptions& options) {
  write_file_atomic(path, results_markdown(title, rows, options));
}

}  // namespace attnbench
