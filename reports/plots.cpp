// Plots beside the reports, drawn by gnuplot from data files and a script we write (see plots.hpp).
#include "reports/plots.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "reports/case_label.hpp"
#include "reports/durable_file.hpp"
#include "reports/quality_table.hpp"

extern char** environ;

namespace attnbench {
namespace {

namespace fs = std::filesystem;

struct Series {
  std::string title;
  std::map<double, double> points;  // x -> y, sorted by x
};

struct Plot {
  std::string stem;  // file name without extension
  std::string title, xlabel, ylabel;
  bool log_x = false, log_y = false;
  bool points_only = false;  // a scatter (speed vs error): its points are not a curve in x
  std::vector<Series> series;
};

// What one plot holds apart from its x axis and its lines.
struct GroupKey {
  std::string pass, mask, dtype, shape, seqlen_q;
  auto tie() const { return std::tie(pass, mask, dtype, shape, seqlen_q); }
  bool operator<(const GroupKey& o) const { return tie() < o.tie(); }
};

std::string shape_text(const ResultRow& r) {
  return fmt::format("B{} {} {}", r.batch, heads_text(r), head_dim_text(r));
}

// File names stay portable whatever a mask label holds.
std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    if (keep)
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "plot" : out;
}

// gnuplot single-quoted strings take everything literally except '' for '.
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The axis words of one kind of plot; `title` goes before each plot's own (what its rows share).
struct Axes {
  std::string title, xlabel, ylabel;
  bool log_x = false, log_y = false;
};

void set_axes(std::vector<Plot>& plots, const Axes& a) {
  for (auto& p : plots) {
    p.title = a.title + ": " + p.title;
    p.xlabel = a.xlabel;
    p.ylabel = a.ylabel;
    p.log_x = a.log_x;
    p.log_y = a.log_y;
  }
}

// A series label with the row's CP options, when it has any.
std::string with_options(std::string label, const ResultRow& r) {
  if (const Metric* o = r.find_extra("options"); o && !o->text.empty() && o->text != "{}")
    return mask_label(label, o->text);
  return label;
}

template <class Fn>
std::vector<Plot> build_plots(const std::vector<const ResultRow*>& rows, const std::string& prefix,
                              Fn&& place) {
  // place(row) -> (group key, series title, x, y)
  std::map<GroupKey, std::map<std::string, Series>> groups;
  for (const auto* r : rows) {
    auto [key, series_title, x, y] = place(*r);
    if (!std::isfinite(x) || !std::isfinite(y) || y <= 0) continue;
    auto& s = groups[key][series_title];
    s.title = series_title;
    s.points.emplace(x, y);  // the first row at an x wins; later duplicates are ignored
  }
  // Name files by what varies between the plots only, so the common case reads "tflops_fwd_causal".
  std::set<std::string> dtypes, shapes, sqs;
  for (const auto& [k, _] : groups) dtypes.insert(k.dtype), shapes.insert(k.shape), sqs.insert(k.seqlen_q);
  std::vector<Plot> plots;
  std::set<std::string> stems;
  for (auto& [k, series] : groups) {
    Plot p;
    std::string stem = prefix + "_" + k.pass + "_" + k.mask;
    if (dtypes.size() > 1) stem += "_" + k.dtype;
    if (shapes.size() > 1) stem += "_" + k.shape;
    if (sqs.size() > 1) stem += "_" + k.seqlen_q;
    p.stem = file_safe(stem);
    for (int n = 2; !stems.insert(p.stem).second; ++n) p.stem = file_safe(stem) + "_" + std::to_string(n);
    std::string what = fmt::format("{}, {}, {} {}", k.mask, k.pass, k.dtype, k.shape);
    if (!k.seqlen_q.empty()) what += ", " + k.seqlen_q;
    p.title = what;
    for (auto& [_, s] : series) p.series.push_back(std::move(s));
    plots.push_back(std::move(p));
  }
  return plots;
}

std::vector<Plot> kernel_plots(const std::vector<ResultRow>& all) {
  std::vector<const ResultRow*> rows;
  for (const auto& r : all)
    if (r.status == Status::ok && r.strategy == "none") rows.push_back(&r);
  auto plots = build_plots(rows, "tflops", [](const ResultRow& r) {
    // Self-attention sweeps Sq = Sk; otherwise (cross-attention, decode) plot
    // against Sk, one plot per Sq.
    GroupKey k{r.pass, row_mask_label(r), r.dtype, shape_text(r),
               r.seqlen_q == r.seqlen_k ? "" : fmt::format("Sq={}", r.seqlen_q)};
    return std::make_tuple(k, r.backend, double(r.seqlen_k), r.tflops);
  });
  set_axes(plots, {"TFLOP/s vs sequence length", "sequence length (keys)", "TFLOP/s", true, false});
  return plots;
}

std::vector<Plot> cp_plots(const std::vector<ResultRow>& all) {
  std::vector<const ResultRow*> rows;
  for (const auto& r : all)
    if (r.status == Status::ok && r.strategy != "none") rows.push_back(&r);
  auto plots = build_plots(rows, "cp_time", [](const ResultRow& r) {
    GroupKey k{r.pass, row_mask_label(r), r.dtype, shape_text(r), ""};
    const std::string s = with_options(fmt::format("{} ({}) S={}", r.strategy, r.backend, r.seqlen_k), r);
    return std::make_tuple(k, s, double(r.world_size), r.time_ms);
  });
  // A line needs two world sizes to say anything about scaling.
  std::erase_if(plots, [](const Plot& p) {
    for (const auto& s : p.series)
      if (s.points.size() > 1) return false;
    return true;
  });
  set_axes(plots,
           {"Time vs world size", "world size (ranks)", "time per iteration (ms, median)", true, true});
  return plots;
}

// `attnbench model` rows: predicted TFLOP/s per GPU against GPU count, one line per strategy.
std::vector<Plot> model_plots(const std::vector<ResultRow>& all) {
  std::vector<const ResultRow*> rows;
  for (const auto& r : all)
    if (r.status == Status::modelled && r.find_extra("tflops_per_gpu") != nullptr) rows.push_back(&r);
  auto plots = build_plots(rows, "model_tflops", [](const ResultRow& r) {
    GroupKey k{r.pass, row_mask_label(r), r.dtype, shape_text(r), ""};
    const std::string s = with_options(r.strategy, r);
    return std::make_tuple(k, s, double(r.world_size), r.find_extra("tflops_per_gpu")->value);
  });
  set_axes(plots,
           {"Modelled TFLOP/s per GPU vs GPU count", "GPUs", "TFLOP/s per GPU (modelled)", true, false});
  return plots;
}

// Speed against quality (the frontier): per mask and shape, a scatter with one mark per approximate
// or dynamic method (its points: the sequence lengths), x the speed-up over the exact row of the case, y
// approx_rel_l2; and MQAR recall against the number of pairs, per length, one line per method (recall 0
// included).
std::vector<Plot> quality_plots(const std::vector<ResultRow>& all) {
  std::map<GroupKey, std::map<std::string, Series>> frontier, recall;
  for (const QualityRow& q : quality_rows(all)) {
    const ResultRow& r = *q.row;
    if (r.status != Status::ok && r.status != Status::mismatch) continue;
    const GroupKey k{r.pass, mask_label(r.mask, r.mask_params), r.dtype, shape_text(r), ""};
    const double err = r.extra_value("approx_rel_l2");
    if (std::isfinite(q.speedup) && q.speedup > 0 && err > 0) {
      auto& s = frontier[k][method_label(r)];
      s.title = method_label(r);
      s.points.emplace(q.speedup, err);
    }
    const double rc = r.extra_value("recall");
    if (const long long pairs = pairs_of(r); pairs > 0 && std::isfinite(rc)) {
      GroupKey kr = k;
      kr.seqlen_q = fmt::format("S={}", r.seqlen_q);
      auto& s = recall[kr][method_label(r)];
      s.title = method_label(r);
      s.points.emplace(static_cast<double>(pairs), rc);
    }
  }
  std::vector<Plot> plots;
  const auto add = [&](std::map<GroupKey, std::map<std::string, Series>>& groups, const std::string& prefix,
                       const Axes& a, bool scatter) {
    for (auto& [k, series] : groups) {
      Plot p;
      p.stem = file_safe(prefix + "_" + k.pass + "_" + k.mask + "_" + k.shape + "_" + k.dtype +
                         (k.seqlen_q.empty() ? "" : "_" + k.seqlen_q));
      p.title = a.title + ": " + fmt::format("{}, {}, {} {}", k.mask, k.pass, k.dtype, k.shape) +
                (k.seqlen_q.empty() ? "" : ", " + k.seqlen_q);
      p.xlabel = a.xlabel, p.ylabel = a.ylabel, p.log_x = a.log_x, p.log_y = a.log_y, p.points_only = scatter;
      for (auto& [_, s] : series) p.series.push_back(std::move(s));
      plots.push_back(std::move(p));
    }
  };
  add(frontier, "quality_frontier",
      {"Speed vs error", "speed-up over the exact row (x)", "approx_rel_l2 (||O - O_exact|| / ||O_exact||)",
       true, true},
      true);
  add(recall, "mqar_recall", {"MQAR recall vs pairs", "key-value pairs", "recall", true, false}, false);
  return plots;
}

void write_data(const Plot& p, const fs::path& file) {
  std::string f = "# " + p.title + "\n# one block per line of the plot: x y\n";
  for (std::size_t i = 0; i < p.series.size(); ++i) {
    if (i) f += "\n\n";  // gnuplot's block separator for `index`
    f += "# " + p.series[i].title + "\n";
    for (const auto& [x, y] : p.series[i].points) f += fmt::format("{:g} {:.6g}\n", x, y);
  }
  write_file_atomic(file.string(), f);  // checked: a full disk is exit 2, not a silent empty plot
}

std::string script_for(const std::vector<Plot>& plots) {
  std::string s =
      "# Drawn by attnbench: run `gnuplot plots.gp` in this folder to redraw the PNG files.\n"
      "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 900,560 "
      "noenhanced font 'sans,10' } else { set terminal png size 900,560 noenhanced }\n"
      "set key outside right top\nset grid\nset offsets graph 0.03, graph 0.03, graph 0.05, 0\n";
  for (const auto& p : plots) {
    s += fmt::format("\nset output {}\nset title {}\nset xlabel {}\nset ylabel {}\n",
                     gp_quote(p.stem + ".png"), gp_quote(p.title), gp_quote(p.xlabel), gp_quote(p.ylabel));
    s += p.log_x ? "set logscale x 2\n" : "unset logscale x\n";
    // Throughput starts at zero so bars of different backends compare honestly.
    s += p.log_y ? "set logscale y\nset yrange [*:*]\n" : "unset logscale y\nset yrange [0:*]\n";
    s += "set xtics auto\n";
    for (std::size_t i = 0; i < p.series.size(); ++i)
      s += fmt::format("{}{} index {} using 1:2 with {} title {}{}", i == 0 ? "plot " : "     ",
                       i == 0 ? gp_quote(p.stem + ".dat") : "''", i,
                       p.points_only ? "points ps 1.5" : "linespoints lw 2", gp_quote(p.series[i].title),
                       i + 1 < p.series.size() ? ", \\\n" : "\n");
    s += "unset output\n";
  }
  return s;
}

// The gnuplot to run, or empty when there is none (PATH search done here so
// the note can tell "absent" from "failed").
std::string find_gnuplot(const PlotOptions& opt) {
  std::string prog = opt.gnuplot;
  if (prog.empty())
    if (const char* env = std::getenv("ATTNBENCH_GNUPLOT")) prog = env;
  if (prog.empty()) prog = "gnuplot";
  if (prog == "none") return "";
  if (prog.find('/') != std::string::npos) return access(prog.c_str(), X_OK) == 0 ? prog : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate =
        fs::path(dirs.substr(start, end - start).empty() ? "." : dirs.substr(start, end - start)) / prog;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

// Runs `gnuplot plots.gp` in dir with stderr to gnuplot.log; returns the exit status or -1.
int run_gnuplot(const std::string& gnuplot, const fs::path& dir) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string script = "plots.gp";
  char* argv[] = {const_cast<char*>(gnuplot.c_str()), script.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

PlotResult write_plots(const std::vector<ResultRow>& rows, const fs::path& out_dir,
                       const PlotOptions& options) {
  PlotResult res;
  res.dir = out_dir / "plots";
  auto plots = kernel_plots(rows);
  auto cp = cp_plots(rows);
  plots.insert(plots.end(), std::make_move_iterator(cp.begin()), std::make_move_iterator(cp.end()));
  auto quality = quality_plots(rows);
  plots.insert(plots.end(), std::make_move_iterator(quality.begin()), std::make_move_iterator(quality.end()));
  auto modelled = model_plots(rows);
  plots.insert(plots.end(), std::make_move_iterator(modelled.begin()),
               std::make_move_iterator(modelled.end()));
  if (plots.empty()) {
    res.note = "plots: no ok rows to plot";
    return res;
  }
  std::error_code ec;
  fs::create_directories(res.dir, ec);
  if (ec) {
    res.note = fmt::format("plots: cannot create {}: {}", res.dir.string(), ec.message());
    return res;
  }
  for (const auto& p : plots) {
    write_data(p, res.dir / (p.stem + ".dat"));
    fs::remove(res.dir / (p.stem + ".png"), ec);  // a stale image must not pass for a new one
  }
  res.script = res.dir / "plots.gp";
  write_file_atomic(res.script.string(), script_for(plots));
  res.planned = plots.size();

  const std::string gnuplot = find_gnuplot(options);
  if (gnuplot.empty()) {
    res.note = fmt::format(
        "plots: gnuplot not found, so {} holds the data and plots.gp only; to draw "
        "the PNG files install it (apt-get install gnuplot-nox) and run `cd {} "
        "&& gnuplot plots.gp`",
        res.dir.string(), res.dir.string());
    return res;
  }
  const int status = run_gnuplot(gnuplot, res.dir);
  for (const auto& p : plots)
    if (fs::file_size(res.dir / (p.stem + ".png"), ec) > 0 && !ec)
      res.images.push_back(res.dir / (p.stem + ".png"));
  res.rendered = status == 0 && res.images.size() == plots.size();
  if (res.rendered) {
    fs::remove(res.dir / "gnuplot.log", ec);
    res.note = fmt::format("plots: {} PNG files in {}", res.images.size(), res.dir.string());
  } else {
    res.note = fmt::format(
        "plots: gnuplot ({}) failed with status {} and drew {} of {} files; see "
        "{}",
        gnuplot, status, res.images.size(), plots.size(), (res.dir / "gnuplot.log").string());
  }
  return res;
}

void write_plots(const std::vector<ResultRow>& rows, const fs::path& out_dir) {
  std::cout << write_plots(rows, out_dir, PlotOptions{}).note << "\n";
}

}  // namespace attnbench
