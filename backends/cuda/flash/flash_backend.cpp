// cuda.flash's backend and execution: uploads, schedules built once per case, launches, downloads.
#include "backends/cuda/flash/flash_backend.hpp"

#include <cstdlib>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"
#include "backends/cuda/common/backend_support.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/common/softmax_scale.hpp"
#include "backends/cuda/flash/params.hpp"
#include "backends/cuda/flash/schedule.hpp"
#include "backends/cuda/flash/softmax.cuh"
#include "backends/cuda/flash/traits.hpp"

namespace attnbench::cuda::flash {

namespace {

// A TileSchedule on the device; the kernels read it through DeviceSchedule.
struct UploadedSchedule {
  cuda::DeviceBuffer<std::int32_t> begin, tiles, mask_slot;
  cuda::DeviceBuffer<std::uint32_t> bits;
  int outer_tiles = 0;

  UploadedSchedule() = default;
  UploadedSchedule(const TileSchedule& s, MemoryTracker* tracker)
      : begin(cuda::upload_vector(s.begin, tracker)),
        tiles(cuda::upload_vector(s.tiles, tracker)),
        mask_slot(cuda::upload_vector(s.mask_slot, tracker)),
        bits(cuda::upload_vector(s.bits, tracker)),
        outer_tiles(s.outer_tiles()) {}

  DeviceSchedule view() const {
    return {begin.data(), tiles.data(), mask_slot.data(), bits.data(), outer_tiles};
  }
};

// Option `flash_warp_rows`: query rows per warp of the forward kernel, 16 (default:
// Q fragments in registers) or 32 (FA2's layout, head dim 128 only). The runner
// passes scenario options to CP cases only, so the environment variable
// ATTNBENCH_FLASH_WARP_ROWS gives the default for A/B timing runs; the row
// records the layout used (metric flash_warp_rows).
int warp_rows_option(const Problem& p) {
  const char* env = std::getenv("ATTNBENCH_FLASH_WARP_ROWS");
  const std::string v = p.option("flash_warp_rows", env != nullptr && *env != '\0' ? env : "16");
  if (v == "16") return 16;
  if (v == "32") return 32;
  throw InputError("cuda.flash: option flash_warp_rows: '" + v + "' (accepted: 16, 32)");
}

class CudaFlashExecution final : public cuda::CudaExecution {
 public:
  CudaFlashExecution(const Problem& p, const Inputs& in, Resources& res)
      : cuda::CudaExecution(cuda::l2_flush_option(p)), pass_(p.pass), dtype_(p.dtype) {
    MemoryTracker* mt = res.device;
    const Shape& s = p.shape;
    head_dim_ = static_cast<int>(s.head_dim);
    warp_rows_ = warp_rows_option(p);
    const double scale = cuda::softmax_scale_or_default(p.softmax_scale, s.head_dim);
    const Dims dims{static_cast<int>(s.batch), static_cast<int>(s.heads_q), static_cast<int>(s.heads_kv),
                    static_cast<int>(s.seqlen_q), static_cast<int>(s.seqlen_k)};
    const auto qn = static_cast<std::size_t>(s.q_elems()), kvn = static_cast<std::size_t>(s.kv_elems());
    const auto ln = static_cast<std::size_t>(s.lse_elems());
    const bool bwd = pass_has_backward(p.pass);

    q_ = cuda::DeviceTensor(dtype_, qn, mt);
    k_ = cuda::DeviceTensor(dtype_, kvn, mt);
    v_ = cuda::DeviceTensor(dtype_, kvn, mt);
    o_ = cuda::DeviceTensor(dtype_, qn, mt);
    lse_ = cuda::DeviceBuffer<float>(ln, mt);
    q_.upload(in.q);
    k_.upload(in.k);
    v_.upload(in.v);

    // The forward schedule is needed by every pass (bwd runs the forward here, untimed).
    const TileSchedule fwd_tiles =
        build_query_major_schedule(*p.mask, ForwardTile::block_q, ForwardTile::block_k);
    fwd_entries_ = fwd_tiles.entries();
    fwd_partial_ = fwd_tiles.partial_tiles();
    fwd_schedule_ = UploadedSchedule(fwd_tiles, mt);
    set_shared_args(fwd_, dims, scale);
    fwd_.o = o_.data();
    fwd_.lse = lse_.data();
    fwd_.schedule = fwd_schedule_.view();

    if (bwd) {
      dout_ = cuda::DeviceTensor(dtype_, qn, mt);
      dout_.upload(in.dout);
      dq_ = cuda::DeviceTensor(dtype_, qn, mt);
      dk_ = cuda::DeviceTensor(dtype_, kvn, mt);
      dv_ = cuda::DeviceTensor(dtype_, kvn, mt);
      delta_ = cuda::DeviceBuffer<float>(ln, mt);
      dq_accum_ = cuda::DeviceBuffer<float>(qn, mt);
      bwd_schedule_ = UploadedSchedule(
          build_key_major_schedule(*p.mask, BackwardTile::block_q, BackwardTile::block_k), mt);
      set_shared_args(bwd_, dims, scale);
      bwd_.o = o_.data();
      bwd_.dout = dout_.data();
      bwd_.lse = lse_.data();
      bwd_.delta = delta_.data();
      bwd_.dq_accum = dq_accum_.data();
      bwd_.dq = dq_.data();
      bwd_.dk = dk_.data();
      bwd_.dv = dv_.data();
      bwd_.scale = static_cast<float>(scale);
      bwd_.schedule = bwd_schedule_.view();
    }
    if (!pass_has_forward(p.pass)) {  // the backward needs O and LSE: computed here, untimed
      launch_forward(dtype_, head_dim_, warp_rows_, fwd_, stream());
      synchronize();
    }
  }

  void run() override {
    if (pass_has_forward(pass_)) launch_forward(dtype_, head_dim_, warp_rows_, fwd_, stream());
    if (pass_has_backward(pass_)) launch_backward(dtype_, head_dim_, bwd_, stream());
  }

  void fetch_outputs(Outputs& out) override {
    synchronize();
    ATTNBENCH_CUDA_CHECK(cudaGetLastError());
    if (pass_has_forward(pass_)) {
      out.o = o_.download();
      out.lse = cuda::download(lse_);
    }
    if (pass_has_backward(pass_)) {
      out.dq = dq_.download();
      out.dk = dk_.download();
      out.dv = dv_.download();
    }
  }

  // How much of the mask the forward visits (non-empty tiles, those needing the bit
  // test) and the forward's warp layout.
  std::vector<Metric> metrics() override {
    return {{"flash_tiles", static_cast<double>(fwd_entries_), "", false},
            {"flash_partial_tiles", static_cast<double>(fwd_partial_), "", false},
            {"flash_warp_rows", static_cast<double>(warp_rows_), "", false}};
  }

 private:
  // What the forward and backward kernel arguments share: the sizes, Q, K, V and the exp2 scale.
  template <class Args>
  void set_shared_args(Args& a, const Dims& dims, double scale) const {
    a.dims = dims;
    a.q = q_.data();
    a.k = k_.data();
    a.v = v_.data();
    a.scale_log2 = static_cast<float>(scale) * kLog2e;
  }

  Pass pass_;
  DType dtype_;
  int head_dim_ = 0;
  int warp_rows_ = 16;
  std::int64_t fwd_entries_ = 0, fwd_partial_ = 0;
  cuda::DeviceTensor q_, k_, v_, o_, dout_, dq_, dk_, dv_;
  cuda::DeviceBuffer<float> lse_, delta_, dq_accum_;
  UploadedSchedule fwd_schedule_, bwd_schedule_;
  ForwardArgs fwd_;
  BackwardArgs bwd_;
};

}  // namespace

BackendInfo CudaFlashBackend::info() const {
  BackendInfo i;
  i.name = "cuda.flash";
  i.device = Device::cuda;
  i.description =
      "attnbench's block-sparse flash attention (mma.sync, FA2-style fwd/bwd): empty tiles skipped, "
      "full tiles unmasked, partial tiles bit-tested; every mask";
  i.dtypes = {DType::bf16, DType::fp16};
  i.head_dims = {64, 128};
  i.passes = {Pass::fwd, Pass::bwd, Pass::fwd_bwd};
  i.gqa = true;
  return i;
}

Support CudaFlashBackend::supports(const Problem& p) const {
  Support s = cuda::check_cuda_support(info(), p);
  if (!s.ok) return s;
  const Shape& sh = p.shape;
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  if (sh.seqlen_q > kMax || sh.seqlen_k > kMax)
    return Support::no("cuda.flash: sequence lengths must fit in 32 bits");
  if (warp_rows_option(p) == 32 && sh.head_dim != 128)
    return Support::no("cuda.flash: flash_warp_rows=32 needs head_dim 128");
  if (sh.batch * sh.heads_q > 65535)
    return Support::no("cuda.flash: batch * heads_q must be at most 65535 (grid y)");
  return Support::yes();
}

std::unique_ptr<Execution> CudaFlashBackend::prepare(const Problem& p, const Inputs& in, Resources& res) {
  return std::make_unique<CudaFlashExecution>(p, in, res);
}

ATTNBENCH_REGISTER_BACKEND(CudaFlashBackend);

}  // namespace attnbench::cuda::flash
