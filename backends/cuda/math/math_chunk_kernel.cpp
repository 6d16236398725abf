// cuda.math on one CP chunk pair: staged tensors, the chunk's mask rows, head passes sized to free memory.
#include "backends/cuda/math/math_chunk_kernel.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <string>

#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/softmax_scale.hpp"
#include "backends/cuda/math/mask_rows.hpp"
#include "backends/cuda/math/math_core.hpp"
#include "backends/cuda/math/math_plan.hpp"

namespace attnbench::cuda {

namespace {

enum Slot : int {
  kQ,
  kK,
  kV,
  kO,
  kLse,
  kDout,
  kDelta,
  kDq,
  kDk,
  kDv,
  kScores,
  kProbs,
  kDprobs,
  kDscores,
  kRows,
  kBounds,
  kWorkspace
};
static_assert(kWorkspace < ChunkStaging::kSlots);

// The host side of one call: inputs, and where the results go.
struct HostChunk {
  const float *q, *k, *v, *o, *lse, *dout;
  float *o_out, *lse_out, *dq, *dk, *dv;
};

template <class T>
void run_chunk(ChunkStaging& st, const ChunkTask& t, bool backward, const HostChunk& h) {
  const Shape s = chunk_shape(t);
  const auto qn = static_cast<std::size_t>(s.q_elems()), kvn = static_cast<std::size_t>(s.kv_elems());
  const auto ln = static_cast<std::size_t>(s.lse_elems());
  const auto scale = static_cast<float>(softmax_scale_or_default(t.softmax_scale, t.head_dim));

  const math::MaskRows rows = math::build_mask_rows(*t.mask, t.q_begin, t.nq, t.k_begin, t.nk);
  math::MathTensors<T> d;
  d.row_ptr = static_cast<const std::int64_t*>(
      st.upload_bytes(kRows, rows.row_ptr.data(), rows.row_ptr.size() * sizeof(std::int64_t)));
  d.bounds = static_cast<const std::int32_t*>(
      st.upload_bytes(kBounds, rows.bounds.data(), rows.bounds.size() * sizeof(std::int32_t)));
  d.q = static_cast<const T*>(st.upload(kQ, t.dtype, h.q, qn));
  d.k = static_cast<const T*>(st.upload(kK, t.dtype, h.k, kvn));
  d.v = static_cast<const T*>(st.upload(kV, t.dtype, h.v, kvn));
  if (backward) {
    d.o = static_cast<T*>(st.upload(kO, t.dtype, h.o, qn));
    d.lse = static_cast<float*>(st.upload(kLse, DType::fp32, h.lse, ln));
    d.dout = static_cast<const T*>(st.upload(kDout, t.dtype, h.dout, qn));
    d.delta = static_cast<float*>(st.device(kDelta, ln * sizeof(float)));
    d.dq = static_cast<float*>(st.device(kDq, qn * sizeof(float)));
    d.dk = static_cast<float*>(st.device(kDk, kvn * sizeof(float)));
    d.dv = static_cast<float*>(st.device(kDv, kvn * sizeof(float)));
  } else {
    d.o = static_cast<T*>(st.device(kO, qn * sizeof(T)));
    d.lse = static_cast<float*>(st.device(kLse, ln * sizeof(float)));
  }
  const std::size_t per_item = math::score_bytes_per_item(s, sizeof(T), backward);
  std::size_t free_bytes = 0, total = 0;
  ATTNBENCH_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  // Leave room for cuBLAS's workspace and other ranks sharing the GPU.
  const std::size_t reserve = math::kCublasWorkspaceBytes + total / 20;
  const std::size_t available = free_bytes > reserve ? (free_bytes - reserve) / 10 * 9 : 0;
  const std::int64_t pass_items = math::items_per_pass(math::item_count(s), per_item, available, 0);
  if (pass_items == 0)
    throw OutOfMemory("cuda.math chunk kernel: one head's " + std::to_string(t.nq) + "×" +
                      std::to_string(t.nk) + " intermediates need " + std::to_string(per_item) + " bytes, " +
                      std::to_string(available) + " are free on the device");
  const std::size_t slots =
      static_cast<std::size_t>(s.seqlen_q * s.seqlen_k) * static_cast<std::size_t>(pass_items);
  d.scores = static_cast<float*>(st.device(kScores, slots * sizeof(float)));
  d.probs = static_cast<T*>(st.device(kProbs, slots * sizeof(T)));
  if (backward) {
    d.dprobs = static_cast<float*>(st.device(kDprobs, slots * sizeof(float)));
    d.dscores = static_cast<T*>(st.device(kDscores, slots * sizeof(T)));
  }
  d.workspace = st.device(kWorkspace, math::kCublasWorkspaceBytes);

  math::MathCore<T> core(s, scale, pass_items, d);
  if (backward) {
    core.backward(st.stream());
    ATTNBENCH_CUDA_CHECK(cudaGetLastError());
    st.download(kDq, DType::fp32, d.dq, qn, h.dq);
    st.download(kDk, DType::fp32, d.dk, kvn, h.dk);
    st.download(kDv, DType::fp32, d.dv, kvn, h.dv);
  } else {
    core.forward(st.stream());
    ATTNBENCH_CUDA_CHECK(cudaGetLastError());
    st.download(kO, t.dtype, d.o, qn, h.o_out);
    st.download(kLse, DType::fp32, d.lse, ln, h.lse_out);
  }
}

void dispatch(ChunkStaging& st, const ChunkTask& t, bool backward, const HostChunk& h) {
  switch (t.dtype) {
    case DType::bf16: return run_chunk<__nv_bfloat16>(st, t, backward, h);
    case DType::fp16: return run_chunk<__half>(st, t, backward, h);
    case DType::fp32: return run_chunk<float>(st, t, backward, h);
    default:
      throw std::invalid_argument("cuda.math chunk kernel: dtype " + std::string(to_string(t.dtype)) +
                                  " (accepted: bf16, fp16, fp32)");
  }
}

}  // namespace

void MathChunkKernel::forward(const ChunkTask& t, const float* q, const float* k, const float* v, float* o,
                              float* lse) const {
  auto [lock, st] = lease();
  dispatch(st, t, false, {q, k, v, nullptr, nullptr, nullptr, o, lse, nullptr, nullptr, nullptr});
}

void MathChunkKernel::backward(const ChunkTask& t, const float* q, const float* k, const float* v,
                               const float* o, const float* lse, const float* dout, float* dq, float* dk,
                               float* dv) const {
  auto [lock, st] = lease();
  dispatch(st, t, true, {q, k, v, o, lse, dout, nullptr, nullptr, dq, dk, dv});
}

}  // namespace attnbench::cuda
