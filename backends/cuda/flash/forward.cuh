// The cuda.flash forward kernel: FA2-style, tensor cores, key tiles driven by the query-major block schedule.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "backends/cuda/flash/bitmask.hpp"
#include "backends/cuda/flash/mma.cuh"
#include "backends/cuda/flash/params.hpp"
#include "backends/cuda/flash/softmax.cuh"
#include "backends/cuda/flash/traits.hpp"

namespace attnbench::cuda::flash {

template <int D>
constexpr int forward_smem_bytes() {
  // Q once, K and V double-buffered.
  return (ForwardTile::block_q + 4 * ForwardTile::block_k) * D * 2;
}

// MT: m16 row blocks per warp (1: 16 rows, Q in registers; 2: 32 rows, Q re-read from shared memory).
template <int D, int MT>
constexpr int forward_min_blocks() {
  return D == 64 && MT == 1 ? 2 : (MT == 2 ? 2 : 1);
}

template <class T, int D, int MT>
__global__ void __launch_bounds__(forward_threads<MT>, (forward_min_blocks<D, MT>()))
    flash_forward_kernel(const ForwardArgs args) {
  constexpr int BQ = ForwardTile::block_q, BK = ForwardTile::block_k;
  constexpr int NT = forward_threads<MT>;
  constexpr bool kQInRegisters = MT == 1;
  constexpr int kWords = BK / 32;
  extern __shared__ __align__(128) unsigned char smem[];
  T* sQ = reinterpret_cast<T*>(smem);
  T* sK = sQ + BQ * D;      // two buffers of BK * D
  T* sV = sK + 2 * BK * D;  // two buffers of BK * D

  const Dims& dims = args.dims;
  // Heavy (late) query tiles of causal-like masks first: a shorter tail.
  const int qt = args.schedule.outer_tiles - 1 - static_cast<int>(blockIdx.x);
  const int b = static_cast<int>(blockIdx.y) / dims.heads_q;
  const int h = static_cast<int>(blockIdx.y) % dims.heads_q;
  const int hk = h / (dims.heads_q / dims.heads_kv);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int t = lane & 3;
  const int q0 = qt * BQ;
  const int warp_row0 = warp * 16 * MT;  // first row of this warp inside the tile

  const std::int64_t q_stride = static_cast<std::int64_t>(dims.heads_q) * D;
  const std::int64_t kv_stride = static_cast<std::int64_t>(dims.heads_kv) * D;
  const T* q_base =
      static_cast<const T*>(args.q) + (static_cast<std::int64_t>(b) * dims.seqlen_q * dims.heads_q + h) * D;
  const T* k_base =
      static_cast<const T*>(args.k) + (static_cast<std::int64_t>(b) * dims.seqlen_k * dims.heads_kv + hk) * D;
  const T* v_base =
      static_cast<const T*>(args.v) + (static_cast<std::int64_t>(b) * dims.seqlen_k * dims.heads_kv + hk) * D;

  const int e_begin = args.schedule.begin[qt], e_end = args.schedule.begin[qt + 1];

  float acc[MT][D / 8][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int j = 0; j < D / 8; ++j) acc[m][j][0] = acc[m][j][1] = acc[m][j][2] = acc[m][j][3] = 0.0f;
  RowState row[MT][2];  // accumulator rows acc_row(lane, 0) and acc_row(lane, 2) of each m block
  std::uint32_t qf[kQInRegisters ? D / 16 : 1][4];

  if (e_begin < e_end) {
    load_tile_async<BQ, D, NT>(sQ, q_base, q_stride, q0, dims.seqlen_q);
    const int k0 = args.schedule.tiles[e_begin] * BK;
    load_tile_async<BK, D, NT>(sK, k_base, kv_stride, k0, dims.seqlen_k);
    load_tile_async<BK, D, NT>(sV, v_base, kv_stride, k0, dims.seqlen_k);
    cp_async_commit();
  }

  for (int e = e_begin; e < e_end; ++e) {
    const int buf = (e - e_begin) & 1;
    cp_async_wait<0>();
    __syncthreads();  // tile e is in shared memory; every warp is done with tile e - 1
    if constexpr (kQInRegisters) {
      if (e == e_begin) {
#pragma unroll
        for (int kc = 0; kc < D / 16; ++kc)
          ldmatrix_x4(qf[kc], smem_addr<D>(sQ, ldsm_a(lane, warp_row0, kc * 16)));
      }
    }
    if (e + 1 < e_end) {  // prefetch the next tile into the other buffer
      const int k1 = args.schedule.tiles[e + 1] * BK;
      load_tile_async<BK, D, NT>(sK + (buf ^ 1) * BK * D, k_base, kv_stride, k1, dims.seqlen_k);
      load_tile_async<BK, D, NT>(sV + (buf ^ 1) * BK * D, v_base, kv_stride, k1, dims.seqlen_k);
      cp_async_commit();
    }
    const T* tK = sK + buf * BK * D;
    const T* tV = sV + buf * BK * D;

    // S = Q K^T for this warp's rows × BK keys; each K fragment serves all MT row blocks.
    float s[MT][BK / 8][4];
#pragma unroll
    for (int m = 0; m < MT; ++m)
#pragma unroll
      for (int j = 0; j < BK / 8; ++j) s[m][j][0] = s[m][j][1] = s[m][j][2] = s[m][j][3] = 0.0f;
#pragma unroll
    for (int kc = 0; kc < D / 16; ++kc) {
      std::uint32_t qa[MT][4];
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        if constexpr (kQInRegisters) {
#pragma unroll
          for (int i = 0; i < 4; ++i) qa[m][i] = qf[kc][i];
        } else {
          ldmatrix_x4(qa[m], smem_addr<D>(sQ, ldsm_a(lane, warp_row0 + 16 * m, kc * 16)));
        }
      }
#pragma unroll
      for (int np = 0; np < BK / 16; ++np) {
        std::uint32_t kb[4];
        ldmatrix_x4(kb, smem_addr<D>(tK, ldsm_b_nk(lane, np * 16, kc * 16)));
#pragma unroll
        for (int m = 0; m < MT; ++m) {
          mma_16816<T>(s[m][2 * np], qa[m], kb[0], kb[1]);
          mma_16816<T>(s[m][2 * np + 1], qa[m], kb[2], kb[3]);
        }
      }
    }

    // Partial tile: cells whose bit is clear (including padding) get -inf.
    const int slot = args.schedule.mask_slot[e];
    if (slot >= 0) {
      const std::uint32_t* bits = args.schedule.bits + static_cast<std::int64_t>(slot) * BQ * kWords;
#pragma unroll
      for (int m = 0; m < MT; ++m)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int tr = warp_row0 + 16 * m + acc_row(lane, 2 * r);
          std::uint32_t w[kWords];
#pragma unroll
          for (int i = 0; i < kWords; ++i) w[i] = __ldg(bits + tr * kWords + i);
#pragma unroll
          for (int j = 0; j < BK / 8; ++j)
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              const int col = 8 * j + acc_col(lane, c);
              if (((w[col >> 5] >> (col & 31)) & 1u) == 0) s[m][j][2 * r + c] = -INFINITY;
            }
        }
    }

    // Online softmax per accumulator row (r = 0: elements 0,1; r = 1: elements 2,3).
#pragma unroll
    for (int m = 0; m < MT; ++m)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = -INFINITY;
#pragma unroll
        for (int j = 0; j < BK / 8; ++j) mx = fmaxf(mx, fmaxf(s[m][j][2 * r], s[m][j][2 * r + 1]));
        mx = quad_max(mx);
        const float alpha = begin_tile(row[m][r], mx, args.scale_log2);
        const float base = exp_base(row[m][r].m);
        float sum = 0.0f;
#pragma unroll
        for (int j = 0; j < BK / 8; ++j) {
          s[m][j][2 * r] = prob(s[m][j][2 * r], args.scale_log2, base);
          s[m][j][2 * r + 1] = prob(s[m][j][2 * r + 1], args.scale_log2, base);
          sum += s[m][j][2 * r] + s[m][j][2 * r + 1];
        }
        row[m][r].l += sum;  // a per-thread partial sum; the quad is reduced once at the end
#pragma unroll
        for (int j = 0; j < D / 8; ++j) {
          acc[m][j][2 * r] *= alpha;
          acc[m][j][2 * r + 1] *= alpha;
        }
      }

      // O += P V with P straight from the S accumulators (no shared-memory round trip).
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
      std::uint32_t pa[MT][4];
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        pa[m][0] = pack2<T>(s[m][2 * kk][0], s[m][2 * kk][1]);
        pa[m][1] = pack2<T>(s[m][2 * kk][2], s[m][2 * kk][3]);
        pa[m][2] = pack2<T>(s[m][2 * kk + 1][0], s[m][2 * kk + 1][1]);
        pa[m][3] = pack2<T>(s[m][2 * kk + 1][2], s[m][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        std::uint32_t vb[4];
        ldmatrix_x4_trans(vb, smem_addr<D>(tV, ldsm_b_kn_trans(lane, kk * 16, dp * 16)));
#pragma unroll
        for (int m = 0; m < MT; ++m) {
          mma_16816<T>(acc[m][2 * dp], pa[m], vb[0], vb[1]);
          mma_16816<T>(acc[m][2 * dp + 1], pa[m], vb[2], vb[3]);
        }
      }
    }
  }

  // Epilogue: normalise, store O in the dtype and the natural-log LSE.
  T* o_base = static_cast<T*>(args.o) + (static_cast<std::int64_t>(b) * dims.seqlen_q * dims.heads_q + h) * D;
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      row[m][r].l = quad_sum(row[m][r].l);
      const int qrow = q0 + warp_row0 + 16 * m + acc_row(lane, 2 * r);
      if (qrow >= dims.seqlen_q) continue;
      const float inv = output_scale(row[m][r].l);
      T* out = o_base + static_cast<std::int64_t>(qrow) * q_stride;
#pragma unroll
      for (int j = 0; j < D / 8; ++j)
        *reinterpret_cast<std::uint32_t*>(out + 8 * j + acc_col(lane, 0)) =
            pack2<T>(acc[m][j][2 * r] * inv, acc[m][j][2 * r + 1] * inv);
      if (t == 0)
        args.lse[(static_cast<std::int64_t>(b) * dims.heads_q + h) * dims.seqlen_q + qrow] =
            finalize_lse(row[m][r]);
    }
}

template <class T, int D, int MT>
void launch_forward_typed(const ForwardArgs& args, cudaStream_t stream) {
  constexpr int smem = forward_smem_bytes<D>();
  auto kernel = flash_forward_kernel<T, D, MT>;
  static const cudaError_t attr =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (attr != cudaSuccess)
    throw std::runtime_error(std::string("cuda.flash forward: ") + cudaGetErrorString(attr));
  if (args.schedule.outer_tiles == 0) return;
  const dim3 grid(static_cast<unsigned>(args.schedule.outer_tiles),
                  static_cast<unsigned>(args.dims.batch * args.dims.heads_q));
  kernel<<<grid, forward_threads<MT>, smem, stream>>>(args);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cuda.flash forward launch: ") + cudaGetErrorString(err));
}

}  // namespace attnbench::cuda::flash
