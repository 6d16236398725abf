// Plots beside the reports: TFLOP/s against sequence length per mask, time against world size for CP sweeps.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "harness/schema/result_row.hpp"

namespace attnbench {

struct PlotOptions {
  // The gnuplot program: empty uses $ATTNBENCH_GNUPLOT, else "gnuplot" from PATH;
  // "none" writes the data and the script without running anything.
  std::string gnuplot;
};

struct PlotResult {
  std::filesystem::path dir;                  // out_dir/plots
  std::filesystem::path script;               // plots.gp (empty when nothing to plot)
  std::vector<std::filesystem::path> images;  // PNG files that now exist
  std::size_t planned = 0;                    // PNG files the script draws
  bool rendered = false;                      // gnuplot ran and drew every planned file
  std::string note;                           // one line for the user: where, or how to get them
};

// Writes out_dir/plots/: one .dat file per plot, a gnuplot script plots.gp,
// and, when gnuplot is available, the PNG files. Never throws for a missing or
// failing gnuplot (the run must still succeed); the note says what to do.
PlotResult write_plots(const std::vector<ResultRow>& rows, const std::filesystem::path& out_dir,
                       const PlotOptions& options);

// The runner's entry point: as above with the default options, printing the note on stdout.
void write_plots(const std::vector<ResultRow>& rows, const std::filesystem::path& out_dir);

}  // namespace attnbench
