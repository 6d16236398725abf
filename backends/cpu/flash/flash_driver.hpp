// cpu.flash driver: picks the kernel variant for this CPU, prepares tile maps and mask access, runs a pass.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "attnbench/backend.hpp"
#include "attnbench/mask.hpp"
#include "flash_kernel.hpp"

namespace attnbench::cpu::flash {

// The variant for this CPU: AVX-512 where the CPU and OS support it, else AVX2+FMA,
// else portable C++. ATTNBENCH_CPU_ISA=avx512|avx2|generic forces one.
const KernelSet& select_kernels();
// A variant by name; throws InputError for an unknown name or one this CPU cannot run.
const KernelSet& kernels_by_name(std::string_view isa);
// The variant for problems whose mask differs per (batch, head): AVX-512's with 64-row query tiles,
// which line up with the 64-token blocks of dynamic masks (a 96-row tile straddles two query blocks,
// so kept blocks become partial tiles); `base` itself for other ISAs (AVX2's 6-row micro-tile).
const KernelSet& head_mask_kernels(const KernelSet& base);
// Names of the variants this CPU can run, best first.
std::vector<std::string_view> available_isas();

// Forwards with at most this many query rows take the decode path (flash_impl_decode.hpp): below it,
// packing K and V costs more than the GEMM micro-kernel saves (docs/decode.md, "Which path").
inline constexpr std::int64_t kDecodeMaxSq = 16;
// Whether a forward of this geometry takes the decode path; ATTNBENCH_CPU_DECODE=0 turns it off
// (to compare the two paths).
bool use_decode_path(const Geometry&);
// Workspace floats of the forward this geometry takes.
std::size_t forward_workspace(const KernelSet&, const Geometry&, int threads);

// The block map of one rectangle of the mask in the forms the kernels walk.
struct TilePlan {
  BlockMap map;
  std::vector<std::int64_t> col_begin;
  std::vector<std::int32_t> rows;
  std::vector<std::uint8_t> col_full;
  std::vector<std::int32_t> q_order, k_order;

  TileMap view() const;
};

// Tiles of the rectangle [q0, q0+nq) x [k0, k0+nk) of `mask` at the variant's tile size.
TilePlan make_tile_plan(const Mask& mask, const KernelSet& kernels, std::int64_t q0, std::int64_t nq,
                        std::int64_t k0, std::int64_t nk);

// Row ranges of `mask` for partial tiles; local row/key 0 is global q0/k0.
MaskSource mask_source(const Mask& mask, std::int64_t q0, std::int64_t k0);

// The tile plans of a problem whose mask differs per (batch, query head): one plan per distinct
// mask (masks shared by heads share a plan), and each (b, h)'s index into them.
struct HeadPlans {
  std::vector<TilePlan> plans;
  std::vector<TileMap> maps;
  std::vector<MaskSource> sources;
  std::vector<std::int32_t> index;  // batch·heads_q entries

  HeadMasks view() const { return {maps.data(), sources.data(), index.data()}; }
};
HeadPlans make_head_plans(const Problem&, const KernelSet&);

// The float tables of a problem's additive bias (Problem::bias) and the kernels' view of them
// (kind 0 when the problem has none).
struct BiasTables {
  std::vector<float> slopes, table;
  ScoreBias view{};
};
BiasTables make_bias_tables(const Problem&);

// The sizes of a whole problem, or of one chunk pair.
Geometry geometry_of(const Problem&);
Geometry geometry_of(const ChunkTask&);

// A pass over a prepared plan of the rectangle at (q0, k0) of `mask`, with a
// workspace of the variant's forward_workspace()/backward_workspace() floats, 64-byte aligned.
// With `heads`, each (b, h) walks its own plan and mask instead; with `bias`, scores get the additive
// bias (both whole problems only).
void run_forward(const KernelSet&, const TilePlan&, const Mask&, const Geometry&, std::int64_t q0,
                 std::int64_t k0, const float* q, const float* k, const float* v, float* o, float* lse,
                 float* workspace, int threads, const HeadPlans* heads = nullptr,
                 const ScoreBias* bias = nullptr);
void run_backward(const KernelSet&, const TilePlan&, const Mask&, const Geometry&, std::int64_t q0,
                  std::int64_t k0, const float* q, const float* k, const float* v, const float* o,
                  const float* lse, const float* dout, float* dq, float* dk, float* dv, float* workspace,
                  int threads, const HeadPlans* heads = nullptr, const ScoreBias* bias = nullptr);

// One-shot passes with their own plan and workspace (for chunk kernels and tests); with `heads`
// (whole problems whose mask differs per (batch, head)), its plans instead of one of `mask`.
void run_forward(const KernelSet&, const Mask&, const Geometry&, std::int64_t q0, std::int64_t k0,
                 const float* q, const float* k, const float* v, float* o, float* lse, int threads,
                 const HeadPlans* heads = nullptr, const ScoreBias* bias = nullptr);
void run_backward(const KernelSet&, const Mask&, const Geometry&, std::int64_t q0, std::int64_t k0,
                  const float* q, const float* k, const float* v, const float* o, const float* lse,
                  const float* dout, float* dq, float* dk, float* dv, int threads,
                  const HeadPlans* heads = nullptr, const ScoreBias* bias = nullptr);

// OpenMP threads to use when the caller does not say (0): all of them.
int default_threads();

}  // namespace attnbench::cpu::flash
