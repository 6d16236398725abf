// cuda.flash on one CP chunk pair: staging, the chunk's tile schedules, forward and backward launches.
#include "backends/cuda/flash/flash_chunk_kernel.hpp"

#include <cstdint>
#include <vector>

#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/common/softmax_scale.hpp"
#include "backends/cuda/flash/params.hpp"
#include "backends/cuda/flash/schedule.hpp"
#include "backends/cuda/flash/softmax.cuh"
#include "backends/cuda/flash/traits.hpp"

namespace attnbench::cuda::flash {

namespace {

// Staging slots: one per tensor and schedule array of a call.
enum Slot : int {
  kQ,
  kK,
  kV,
  kO,
  kLse,
  kDout,
  kDelta,
  kDqAccum,
  kDq,
  kDk,
  kDv,
  kBegin,
  kTiles,
  kMaskSlot,
  kBits
};

template <class T>
const void* upload_vector(cuda::ChunkStaging& st, int slot, const std::vector<T>& v) {
  return st.upload_bytes(slot, v.data(), v.size() * sizeof(T));
}

DeviceSchedule upload_schedule(cuda::ChunkStaging& st, const TileSchedule& s) {
  DeviceSchedule d;
  d.begin = static_cast<const std::int32_t*>(upload_vector(st, kBegin, s.begin));
  d.tiles = static_cast<const std::int32_t*>(upload_vector(st, kTiles, s.tiles));
  d.mask_slot = static_cast<const std::int32_t*>(upload_vector(st, kMaskSlot, s.mask_slot));
  d.bits = static_cast<const std::uint32_t*>(upload_vector(st, kBits, s.bits));
  d.outer_tiles = s.outer_tiles();
  return d;
}

Dims dims_of(const ChunkTask& t) {
  return {static_cast<int>(t.batch), static_cast<int>(t.heads_q), static_cast<int>(t.heads_kv),
          static_cast<int>(t.nq), static_cast<int>(t.nk)};
}

double scale_of(const ChunkTask& t) { return cuda::softmax_scale_or_default(t.softmax_scale, t.head_dim); }

Rect rect_of(const ChunkTask& t) { return {t.q_begin, t.nq, t.k_begin, t.nk}; }

struct Sizes {
  std::size_t q, kv, lse;
};
Sizes sizes_of(const ChunkTask& t) {
  const Shape s = cuda::chunk_shape(t);
  return {static_cast<std::size_t>(s.q_elems()), static_cast<std::size_t>(s.kv_elems()),
          static_cast<std::size_t>(s.lse_elems())};
}

}  // namespace

void CudaFlashChunkKernel::forward(const ChunkTask& t, const float* q, const float* k, const float* v,
                                   float* o, float* lse) const {
  auto [lock, st] = lease();
  const Sizes n = sizes_of(t);
  const std::size_t elt = cuda::DeviceTensor::element_size(t.dtype);
  ForwardArgs a;
  a.dims = dims_of(t);
  a.q = st.upload(kQ, t.dtype, q, n.q);
  a.k = st.upload(kK, t.dtype, k, n.kv);
  a.v = st.upload(kV, t.dtype, v, n.kv);
  a.o = st.device(kO, n.q * elt);
  a.lse = static_cast<float*>(st.device(kLse, n.lse * sizeof(float)));
  a.scale_log2 = static_cast<float>(scale_of(t)) * kLog2e;
  a.schedule = upload_schedule(
      st, build_query_major_schedule(*t.mask, ForwardTile::block_q, ForwardTile::block_k, rect_of(t)));
  launch_forward(t.dtype, static_cast<int>(t.head_dim), 16, a, st.stream());
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
  st.download(kO, t.dtype, a.o, n.q, o);
  st.download(kLse, DType::fp32, a.lse, n.lse, lse);
}

void CudaFlashChunkKernel::backward(const ChunkTask& t, const float* q, const float* k, const float* v,
                                    const float* o, const float* lse, const float* dout, float* dq, float* dk,
                                    float* dv) const {
  auto [lock, st] = lease();
  const Sizes n = sizes_of(t);
  const std::size_t elt = cuda::DeviceTensor::element_size(t.dtype);
  const double scale = scale_of(t);
  BackwardArgs a;
  a.dims = dims_of(t);
  a.q = st.upload(kQ, t.dtype, q, n.q);
  a.k = st.upload(kK, t.dtype, k, n.kv);
  a.v = st.upload(kV, t.dtype, v, n.kv);
  a.o = st.upload(kO, t.dtype, o, n.q);
  a.dout = st.upload(kDout, t.dtype, dout, n.q);
  a.lse = static_cast<const float*>(st.upload(kLse, DType::fp32, lse, n.lse));
  a.delta = static_cast<float*>(st.device(kDelta, n.lse * sizeof(float)));
  a.dq_accum = static_cast<float*>(st.device(kDqAccum, n.q * sizeof(float)));
  a.dq = st.device(kDq, n.q * elt);
  a.dk = st.device(kDk, n.kv * elt);
  a.dv = st.device(kDv, n.kv * elt);
  a.scale = static_cast<float>(scale);
  a.scale_log2 = static_cast<float>(scale) * kLog2e;
  a.schedule = upload_schedule(
      st, build_key_major_schedule(*t.mask, BackwardTile::block_q, BackwardTile::block_k, rect_of(t)));
  launch_backward(t.dtype, static_cast<int>(t.head_dim), a, st.stream());
  ATTNBENCH_CUDA_CHECK(cudaGetLastError());
  // dQ straight from the fp32 accumulator: the ring adds many chunk pairs' dQ,
  // so rounding each to the dtype first would only add error.
  st.download(kDqAccum, DType::fp32, a.dq_accum, n.q, dq);
  st.download(kDk, t.dtype, a.dk, n.kv, dk);
  st.download(kDv, t.dtype, a.dv, n.kv, dv);
}

}  // namespace attnbench::cuda::flash
