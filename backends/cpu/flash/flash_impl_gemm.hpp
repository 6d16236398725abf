// cpu.flash, packing and GEMM: constants, the register-tile micro-kernel, gemm(), packed operand forms.
// Part of flash_impl.hpp: included once per ISA translation unit, inside no namespace,
// after the ISA traits and ATTNBENCH_FLASH_NS (see flash_impl.hpp).
#pragma once

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>
#include "flash_kernel.hpp"

#ifndef ATTNBENCH_FLASH_NS
#error "define ATTNBENCH_FLASH_NS before including flash_impl.hpp"
#endif

namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS {

using i64 = std::int64_t;
using V = Simd::V;

constexpr int W = Simd::W;
constexpr int MR = Simd::MR;
constexpr i64 NR = static_cast<i64>(Simd::NV) * Simd::W;  // micro-tile columns
// Block-map tiles: queries per tile (a multiple of MR) and keys per tile (a multiple of NR). A
// translation unit may set ATTNBENCH_FLASH_TILE_Q (kernels_avx512_t64.cpp: 64, so that tiles line up
// with the 64-token blocks of dynamic masks; docs/cpu-kernels.md "Masks per (batch, query head)").
#ifdef ATTNBENCH_FLASH_TILE_Q
constexpr i64 kTileQ = ATTNBENCH_FLASH_TILE_Q;
#else
constexpr i64 kTileQ = 96;
#endif
constexpr i64 kTileK = 64;
static_assert(kTileQ % MR == 0 && kTileK % NR == 0, "tile sizes must fit the micro-tile");

constexpr float kLog2e = 1.44269504088896340736f;
constexpr float kLn2 = 0.69314718055994530942f;
constexpr float kNegInf = -__builtin_inff();

inline i64 imin(i64 a, i64 b) { return a < b ? a : b; }
inline i64 imax(i64 a, i64 b) { return a > b ? a : b; }
inline i64 round_up(i64 a, i64 m) { return (a + m - 1) / m * m; }
inline float fmax2(float a, float b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------
// GEMM micro-kernel: C[rows x NR] (op)= A[rows x K] * B[K x NR], accumulators in
// registers. A is read by broadcasts, either by rows (a(r,p) = A[r*lda + p]) or
// by columns (a(r,p) = A[p*lda + r], i.e. the transpose of a row-major matrix).

enum class Acc { set, add, scale_add };  // C = AB, C += AB, C = diag(s) C + AB

template <int R, bool ACols, Acc mode>
inline void micro(i64 K, const float* __restrict A, i64 lda, const float* __restrict B, i64 ldb,
                  float* __restrict C, i64 ldc, const float* __restrict row_scale) {
  constexpr int NV = Simd::NV;
  V acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      if constexpr (mode == Acc::set) {
        acc[r][v] = Simd::zero();
      } else if constexpr (mode == Acc::add) {
        acc[r][v] = Simd::load(C + r * ldc + v * W);
      } else {
        acc[r][v] = Simd::mul(Simd::set1(row_scale[r]), Simd::load(C + r * ldc + v * W));
      }
    }
  }
#pragma GCC unroll 4
  for (i64 p = 0; p < K; ++p) {
    V b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = Simd::load(B + p * ldb + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const V a = Simd::bcast(ACols ? A + p * lda + r : A + r * lda + p);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = Simd::fma(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) Simd::store(C + r * ldc + v * W, acc[r][v]);
  }
}

template <int R, bool ACols, Acc mode>
inline void micro_tail(i64 rows, i64 K, const float* A, i64 lda, const float* B, i64 ldb, float* C, i64 ldc,
                       const float* row_scale) {
  if constexpr (R > 0) {
    if (rows == R)
      micro<R, ACols, mode>(K, A, lda, B, ldb, C, ldc, row_scale);
    else
      micro_tail<R - 1, ACols, mode>(rows, K, A, lda, B, ldb, C, ldc, row_scale);
  }
}

// How gemm() reads A: by rows (a(r,p) = A[r*lda + p]), by columns (the transpose
// of a row-major tile, a(r,p) = A[p*lda + r]), or packed in panels of MR rows,
// each [K][MR] (one unit-stride stream of broadcasts).
enum class AMode { rows, cols, panels };

// C[M x N] (op)= A[M x K] * B[K x N] with N a multiple of NR. The j-th block of
// NR columns of B starts at B + j * b_step with rows ldb apart: packed key panels
// have ldb = NR, b_step = K * NR; column panels ldb = NR, b_step = rows * NR.
template <AMode amode, Acc mode>
void gemm(i64 M, i64 N, i64 K, const float* A, i64 lda, const float* B, i64 ldb, i64 b_step, float* C,
          i64 ldc, const float* row_scale) {
  constexpr bool cols = amode != AMode::rows;
  if constexpr (amode == AMode::panels) lda = MR;
  for (i64 n = 0; n < N; n += NR) {
    const float* Bn = B + (n / NR) * b_step;
    i64 r = 0;
    for (; r + MR <= M; r += MR) {
      const float* Ar = amode == AMode::rows ? A + r * lda : amode == AMode::cols ? A + r : A + r * K;
      micro<MR, cols, mode>(K, Ar, lda, Bn, ldb, C + r * ldc + n, ldc,
                            mode == Acc::scale_add ? row_scale + r : nullptr);
    }
    if (r < M) {
      const float* Ar = amode == AMode::rows ? A + r * lda : amode == AMode::cols ? A + r : A + r * K;
      micro_tail<MR - 1, cols, mode>(M - r, K, Ar, lda, Bn, ldb, C + r * ldc + n, ldc,
                                     mode == Acc::scale_add ? row_scale + r : nullptr);
    }
  }
}

// ---------------------------------------------------------------------------
// Tensor views and workspace layout.

// A packed copy of a [B, S, H, D] tensor, per (batch, head).
struct Packed {
  float* base = nullptr;
  i64 batch_stride = 0, head_stride = 0;
  float* at(i64 b, i64 h) const { return base + b * batch_stride + h * head_stride; }
};

// Carves 64-byte aligned arrays out of the workspace; with a null base it only
// measures, so the workspace size and the layout come from the same code.
struct Bump {
  float* base = nullptr;
  i64 used = 0;
  float* take(i64 n) {
    float* p = base ? base + used : nullptr;
    used += round_up(n > 0 ? n : 1, 16);
    return p;
  }
  Packed take_packed(i64 B, i64 H, i64 per_head) {
    float* p = take(B * H * per_head);
    return {p, H * per_head, per_head};
  }
};

// The per-thread scratch of a workspace layout, carved after its shared buffers.
// Layout::scratch(Bump&) lays out one thread's part, so sizing and handing out use one code path.
template <class Layout>
struct ThreadScratch {
  i64 thread_floats = 0;
  float* threads_base = nullptr;

  void reserve_threads(Bump& bump, int threads) {
    Bump t;
    static_cast<const Layout*>(this)->scratch(t);
    thread_floats = t.used;
    threads_base = bump.take(thread_floats * threads);
  }
  auto for_thread(int id) const {
    Bump t{threads_base + id * thread_floats, 0};
    return static_cast<const Layout*>(this)->scratch(t);
  }
};

// Workspace floats a layout needs: the layout laid out over no memory.
template <class Layout>
std::size_t workspace_of(const Geometry& g, int threads) {
  return static_cast<std::size_t>(Layout(g, nullptr, threads).bump.used);
}

inline i64 padded_dim(i64 D) { return round_up(D, NR); }
// V's heads and head dim (Geometry: 0 means as K's).
inline i64 value_heads(const Geometry& g) { return g.heads_v > 0 ? g.heads_v : g.heads_kv; }
inline i64 value_dim(const Geometry& g) { return g.head_dim_v > 0 ? g.head_dim_v : g.head_dim; }
// The tile map and mask source of (b, h): its own under per-head masks, else the problem's one.
template <class Args>
inline const TileMap& map_of(const Args& a, i64 b, i64 h) {
  return a.heads.index == nullptr ? a.map : a.heads.maps[a.heads.index[b * a.geometry.heads_q + h]];
}
template <class Args>
inline const MaskSource& mask_of(const Args& a, i64 b, i64 h) {
  return a.heads.index == nullptr ? a.mask : a.heads.sources[a.heads.index[b * a.geometry.heads_q + h]];
}
inline i64 key_panels(i64 S) { return (S + NR - 1) / NR; }
inline i64 row_groups(i64 S) { return (S + MR - 1) / MR; }

// The three packed forms, each padded with zeros so that every load stays in bounds:
//  key panels   [ceil(S/NR)][D][NR]: X^T as the B operand (Q K^T, dO V^T);
//  column panels [Dp/NR][S][NR]:     X as the B operand with N = D (P V, dS K, ...);
//  row panels   [ceil(S/MR)][D][MR]: X as the A operand (broadcast stream).
inline i64 key_panels_size(i64 S, i64 D) { return key_panels(S) * NR * D; }
inline i64 column_panels_size(i64 S, i64 D) { return padded_dim(D) * S; }
inline i64 row_panels_size(i64 S, i64 D) { return row_groups(S) * MR * D; }

enum class Form { key_panels, column_panels, row_panels };

// Packs src [B, S, H, D] into `form` for every (batch, head), in parallel.
// A work item is a run of rows of one batch element, for all heads: it reads those rows whole
// (H·D contiguous floats each), where walking one head at a time read D floats out of every H·D
// and left the hardware prefetcher a 4 KB stride; packing was ~12 % of a sparse forward at 16K.
inline void pack(const float* src, i64 B, i64 S, i64 H, i64 D, Form form, const Packed& dst, int threads) {
  const i64 Dp = padded_dim(D);
  const i64 width = form == Form::key_panels ? NR : MR;
  // Rows per item: one panel (key/row panels) or a run of 64 rows (column panels).
  const i64 run = form == Form::column_panels ? 64 : width;
  const i64 runs = (S + run - 1) / run, total = B * runs;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 item = 0; item < total; ++item) {
    const i64 b = item / runs, r0 = item % runs * run;
    const float* in = src + b * S * H * D;  // row i, head h at in + (i * H + h) * D
    if (form == Form::key_panels || form == Form::row_panels) {
      for (i64 j = 0; j < width; ++j) {
        const i64 i = r0 + j;
        for (i64 h = 0; h < H; ++h) {
          float* out = dst.at(b, h) + r0 * D;  // panel r0 / width of [ceil(S/width)][D][width]
          if (i < S) {
            const float* row = in + (i * H + h) * D;
            for (i64 d = 0; d < D; ++d) out[d * width + j] = row[d];
          } else {
            for (i64 d = 0; d < D; ++d) out[d * width + j] = 0.0f;
          }
        }
      }
    } else {
      const i64 r1 = imin(S, r0 + run);
      for (i64 i = r0; i < r1; ++i)
        for (i64 h = 0; h < H; ++h)
          for (i64 d0 = 0; d0 < Dp; d0 += NR) {
            float* out = dst.at(b, h) + d0 * S + i * NR;  // panel d0 / NR of [Dp/NR][S][NR], row i
            const float* row = in + (i * H + h) * D + d0;
            const i64 dn = imin(NR, D - d0);
            for (i64 c = 0; c < dn; ++c) out[c] = row[c];
            for (i64 c = dn; c < NR; ++c) out[c] = 0.0f;
          }
    }
  }
}

}  // namespace attnbench::cpu::flash::ATTNBENCH_FLASH_NS
