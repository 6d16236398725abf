// The cuda.flash backward kernels: rowsum(dO∘O) pre-pass, FA2-style main kernel over key tiles, dQ
// conversion.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "backends/cuda/flash/mma.cuh"
#include "backends/cuda/flash/params.hpp"
#include "backends/cuda/flash/softmax.cuh"
#include "backends/cuda/flash/traits.hpp"

namespace attnbench::cuda::flash {

// delta[b, h, q] = sum_d dO[b, q, h, d] * O[b, q, h, d]; one warp per row.
template <class T, int D>
__global__ void flash_backward_delta_kernel(const BackwardArgs args) {
  const Dims& dims = args.dims;
  const std::int64_t rows = static_cast<std::int64_t>(dims.batch) * dims.seqlen_q * dims.heads_q;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const T* o = static_cast<const T*>(args.o) + row * D;
  const T* d = static_cast<const T*>(args.dout) + row * D;
  float sum = 0.0f;
  for (int i = lane; i < D; i += 32) sum += to_float(o[i]) * to_float(d[i]);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) {
    // row = (b * Sq + q) * Hq + h  →  delta index (b * Hq + h) * Sq + q
    const std::int64_t h = row % dims.heads_q, bq = row / dims.heads_q;
    const std::int64_t q = bq % dims.seqlen_q, b = bq / dims.seqlen_q;
    args.delta[(b * dims.heads_q + h) * dims.seqlen_q + q] = sum;
  }
}

template <class T>
__global__ void flash_backward_convert_dq_kernel(const float* __restrict__ src, T* __restrict__ dst,
                                                 std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = from_float<T>(src[i]);
}

template <int D>
constexpr int backward_smem_bytes() {
  constexpr int BQ = BackwardTile::block_q, BK = BackwardTile::block_k;
  // K, V, Q, dO tiles, the dS^T tile, then lse and delta of the query tile.
  return (2 * BK * D + 2 * BQ * D + BK * BQ) * 2 + 2 * BQ * 4;
}

// One CTA per (key tile, batch, KV head). dK and dV live in registers over all
// query heads of the GQA group and all query tiles of the key-major schedule,
// so they need no atomics; dQ goes through fp32 atomics into dq_accum.
template <class T, int D>
__global__ void __launch_bounds__(BackwardTile::threads) flash_backward_kernel(const BackwardArgs args) {
  constexpr int BQ = BackwardTile::block_q, BK = BackwardTile::block_k, NT = BackwardTile::threads;
  constexpr int kWords = BQ / 32;
  extern __shared__ __align__(128) unsigned char smem[];
  T* sK = reinterpret_cast<T*>(smem);
  T* sV = sK + BK * D;
  T* sQ = sV + BK * D;
  T* sdO = sQ + BQ * D;
  T* sdS = sdO + BQ * D;  // dS^T: [BK keys][BQ queries]
  float* s_lse = reinterpret_cast<float*>(sdS + BK * BQ);
  float* s_delta = s_lse + BQ;

  const Dims& dims = args.dims;
  const int kt = static_cast<int>(blockIdx.x);
  const int b = static_cast<int>(blockIdx.y) / dims.heads_kv;
  const int hk = static_cast<int>(blockIdx.y) % dims.heads_kv;
  const int group = dims.heads_q / dims.heads_kv;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  const int k0 = kt * BK;

  const std::int64_t q_stride = static_cast<std::int64_t>(dims.heads_q) * D;
  const std::int64_t kv_stride = static_cast<std::int64_t>(dims.heads_kv) * D;
  const std::int64_t kv_offset = (static_cast<std::int64_t>(b) * dims.seqlen_k * dims.heads_kv + hk) * D;
  load_tile_async<BK, D, NT>(sK, static_cast<const T*>(args.k) + kv_offset, kv_stride, k0, dims.seqlen_k);
  load_tile_async<BK, D, NT>(sV, static_cast<const T*>(args.v) + kv_offset, kv_stride, k0, dims.seqlen_k);
  cp_async_commit();

  float dk[D / 8][4], dv[D / 8][4];
#pragma unroll
  for (int j = 0; j < D / 8; ++j)
#pragma unroll
    for (int c = 0; c < 4; ++c) dk[j][c] = dv[j][c] = 0.0f;

  const int e_begin = args.schedule.begin[kt], e_end = args.schedule.begin[kt + 1];
  for (int hh = 0; hh < group; ++hh) {
    const int h = hk * group + hh;
    const std::int64_t q_offset = (static_cast<std::int64_t>(b) * dims.seqlen_q * dims.heads_q + h) * D;
    const std::int64_t lse_offset = (static_cast<std::int64_t>(b) * dims.heads_q + h) * dims.seqlen_q;
    for (int e = e_begin; e < e_end; ++e) {
      const int q0 = args.schedule.tiles[e] * BQ;
      __syncthreads();  // every warp is done with the previous query tile
      load_tile_async<BQ, D, NT>(sQ, static_cast<const T*>(args.q) + q_offset, q_stride, q0, dims.seqlen_q);
      load_tile_async<BQ, D, NT>(sdO, static_cast<const T*>(args.dout) + q_offset, q_stride, q0,
                                 dims.seqlen_q);
      cp_async_commit();
      for (int i = threadIdx.x; i < BQ; i += NT) {
        const bool valid = q0 + i < dims.seqlen_q;
        s_lse[i] = valid ? backward_lse_log2(args.lse[lse_offset + q0 + i]) : INFINITY;
        s_delta[i] = valid ? args.delta[lse_offset + q0 + i] : 0.0f;
      }
      cp_async_wait<0>();
      __syncthreads();

      // S^T = K Q^T: this warp's 16 keys × BQ queries.
      float st[BQ / 8][4];
#pragma unroll
      for (int j = 0; j < BQ / 8; ++j) st[j][0] = st[j][1] = st[j][2] = st[j][3] = 0.0f;
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        std::uint32_t ka[4];
        ldmatrix_x4(ka, smem_addr<D>(sK, ldsm_a(lane, warp * 16, kc * 16)));
#pragma unroll
        for (int np = 0; np < BQ / 16; ++np) {
          std::uint32_t qb[4];
          ldmatrix_x4(qb, smem_addr<D>(sQ, ldsm_b_nk(lane, np * 16, kc * 16)));
          mma_16816<T>(st[2 * np], ka, qb[0], qb[1]);
          mma_16816<T>(st[2 * np + 1], ka, qb[2], qb[3]);
        }
      }

      // P^T from the forward's LSE; cells whose bit is clear are exactly 0.
      const int slot = args.schedule.mask_slot[e];
      std::uint32_t w[2][kWords];
#pragma unroll
      for (int r = 0; r < 2; ++r)
#pragma unroll
        for (int i = 0; i < kWords; ++i)
          w[r][i] = slot < 0 ? 0xffffffffu
                             : __ldg(args.schedule.bits + static_cast<std::int64_t>(slot) * BK * kWords +
                                     (warp * 16 + g + 8 * r) * kWords + i);
#pragma unroll
      for (int j = 0; j < BQ / 8; ++j)
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int col = 8 * j + 2 * t + c;
            const bool allowed = ((w[r][col >> 5] >> (col & 31)) & 1u) != 0;
            const float p = fast_exp2(fmaf(st[j][2 * r + c], args.scale_log2, -s_lse[col]));
            st[j][2 * r + c] = allowed ? p : 0.0f;
          }

          // dV += P^T dO
#pragma unroll
      for (int kk = 0; kk < BQ / 16; ++kk) {
        const std::uint32_t pa[4] = {
            pack2<T>(st[2 * kk][0], st[2 * kk][1]), pack2<T>(st[2 * kk][2], st[2 * kk][3]),
            pack2<T>(st[2 * kk + 1][0], st[2 * kk + 1][1]), pack2<T>(st[2 * kk + 1][2], st[2 * kk + 1][3])};
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          std::uint32_t ob[4];
          ldmatrix_x4_trans(ob, smem_addr<D>(sdO, ldsm_b_kn_trans(lane, kk * 16, dp * 16)));
          mma_16816<T>(dv[2 * dp], pa, ob[0], ob[1]);
          mma_16816<T>(dv[2 * dp + 1], pa, ob[2], ob[3]);
        }
      }

      // dP^T = V dO^T
      float dpt[BQ / 8][4];
#pragma unroll
      for (int j = 0; j < BQ / 8; ++j) dpt[j][0] = dpt[j][1] = dpt[j][2] = dpt[j][3] = 0.0f;
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        std::uint32_t va[4];
        ldmatrix_x4(va, smem_addr<D>(sV, ldsm_a(lane, warp * 16, kc * 16)));
#pragma unroll
        for (int np = 0; np < BQ / 16; ++np) {
          std::uint32_t ob[4];
          ldmatrix_x4(ob, smem_addr<D>(sdO, ldsm_b_nk(lane, np * 16, kc * 16)));
          mma_16816<T>(dpt[2 * np], va, ob[0], ob[1]);
          mma_16816<T>(dpt[2 * np + 1], va, ob[2], ob[3]);
        }
      }

      // dS^T = P^T ∘ (dP^T − delta) · scale (the softmax scale folded in once).
#pragma unroll
      for (int j = 0; j < BQ / 8; ++j)
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int col = 8 * j + 2 * t + c;
            dpt[j][2 * r + c] = st[j][2 * r + c] * (dpt[j][2 * r + c] - s_delta[col]) * args.scale;
          }

          // dK += dS^T Q, and dS^T to shared memory for the dQ product.
#pragma unroll
      for (int kk = 0; kk < BQ / 16; ++kk) {
        const std::uint32_t da[4] = {pack2<T>(dpt[2 * kk][0], dpt[2 * kk][1]),
                                     pack2<T>(dpt[2 * kk][2], dpt[2 * kk][3]),
                                     pack2<T>(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]),
                                     pack2<T>(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3])};
#pragma unroll
        for (int i = 0; i < 4; ++i)
          *reinterpret_cast<std::uint32_t*>(
              sdS + swizzle<BQ>(warp * 16 + a_row(lane, i), 16 * kk + a_col(lane, i))) = da[i];
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          std::uint32_t qb[4];
          ldmatrix_x4_trans(qb, smem_addr<D>(sQ, ldsm_b_kn_trans(lane, kk * 16, dp * 16)));
          mma_16816<T>(dk[2 * dp], da, qb[0], qb[1]);
          mma_16816<T>(dk[2 * dp + 1], da, qb[2], qb[3]);
        }
      }
      __syncthreads();  // dS^T of every warp is in shared memory

      // dQ(16 queries of this warp) += dS K over the BK keys, added to dq_accum in fp32.
      std::uint32_t dsa[BK / 16][4];
#pragma unroll
      for (int kc = 0; kc < BK / 16; ++kc)
        ldmatrix_x4_trans(dsa[kc], smem_addr<BQ>(sdS, ldsm_a_km_trans(lane, warp * 16, kc * 16)));
      float* dq_row[2];
      bool dq_valid[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int qrow = q0 + warp * 16 + g + 8 * r;
        dq_valid[r] = qrow < dims.seqlen_q;
        dq_row[r] = args.dq_accum + q_offset + static_cast<std::int64_t>(dq_valid[r] ? qrow : 0) * q_stride;
      }
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        float acc[2][4] = {};
#pragma unroll
        for (int kc = 0; kc < BK / 16; ++kc) {
          std::uint32_t kb[4];
          ldmatrix_x4_trans(kb, smem_addr<D>(sK, ldsm_b_kn_trans(lane, kc * 16, dp * 16)));
          mma_16816<T>(acc[0], dsa[kc], kb[0], kb[1]);
          mma_16816<T>(acc[1], dsa[kc], kb[2], kb[3]);
        }
#pragma unroll
        for (int n = 0; n < 2; ++n)
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            if (!dq_valid[r]) continue;
            const int col = dp * 16 + n * 8 + 2 * t;
#if __CUDA_ARCH__ >= 900
            atomicAdd(reinterpret_cast<float2*>(dq_row[r] + col),
                      make_float2(acc[n][2 * r], acc[n][2 * r + 1]));
#else
            atomicAdd(dq_row[r] + col, acc[n][2 * r]);
            atomicAdd(dq_row[r] + col + 1, acc[n][2 * r + 1]);
#endif
          }
      }
    }
  }

  cp_async_wait<0>();  // a key tile with nothing to visit still has its K/V copies in flight

  // dK and dV of this warp's 16 keys, in the dtype.
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = k0 + warp * 16 + g + 8 * r;
    if (key >= dims.seqlen_k) continue;
    T* dk_row = static_cast<T*>(args.dk) + kv_offset + static_cast<std::int64_t>(key) * kv_stride;
    T* dv_row = static_cast<T*>(args.dv) + kv_offset + static_cast<std::int64_t>(key) * kv_stride;
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
      *reinterpret_cast<std::uint32_t*>(dk_row + 8 * j + 2 * t) = pack2<T>(dk[j][2 * r], dk[j][2 * r + 1]);
      *reinterpret_cast<std::uint32_t*>(dv_row + 8 * j + 2 * t) = pack2<T>(dv[j][2 * r], dv[j][2 * r + 1]);
    }
  }
}

inline void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cuda.flash ") + what + ": " + cudaGetErrorString(err));
}

template <class T, int D>
void launch_backward_typed(const BackwardArgs& args, cudaStream_t stream) {
  constexpr int smem = backward_smem_bytes<D>();
  auto kernel = flash_backward_kernel<T, D>;
  static const cudaError_t attr =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (attr != cudaSuccess)
    throw std::runtime_error(std::string("cuda.flash backward: ") + cudaGetErrorString(attr));
  const Dims& d = args.dims;
  const std::int64_t rows = static_cast<std::int64_t>(d.batch) * d.seqlen_q * d.heads_q;
  const std::int64_t dq_elems = rows * D;
  if (rows == 0) return;
  const cudaError_t zeroed =
      cudaMemsetAsync(args.dq_accum, 0, static_cast<std::size_t>(dq_elems) * sizeof(float), stream);
  if (zeroed != cudaSuccess)
    throw std::runtime_error(std::string("cuda.flash dq_accum memset: ") + cudaGetErrorString(zeroed));
  constexpr int kDeltaWarps = 8;
  flash_backward_delta_kernel<T, D>
      <<<static_cast<unsigned>((rows + kDeltaWarps - 1) / kDeltaWarps), kDeltaWarps * 32, 0, stream>>>(args);
  check_launch("backward delta");
  if (args.schedule.outer_tiles > 0) {
    const dim3 grid(static_cast<unsigned>(args.schedule.outer_tiles),
                    static_cast<unsigned>(d.batch * d.heads_kv));
    kernel<<<grid, BackwardTile::threads, smem, stream>>>(args);
    check_launch("backward");
  }
  const unsigned blocks = static_cast<unsigned>(std::min<std::int64_t>((dq_elems + 255) / 256, 65535));
  flash_backward_convert_dq_kernel<T>
      <<<blocks, 256, 0, stream>>>(args.dq_accum, static_cast<T*>(args.dq), dq_elems);
  check_launch("dQ conversion");
}

}  // namespace attnbench::cuda::flash
