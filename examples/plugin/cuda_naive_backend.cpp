// example.cuda_naive as a Backend: capability answers, device buffers charged to the budget, event timing.
#include "cuda_naive_backend.hpp"

#include <attnbench/memory.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cuda_naive_kernel.hpp"

namespace example {

namespace {

using namespace attnbench;

// A device array charged to the case's device memory tracker before it is allocated.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer(std::size_t count, MemoryTracker& tracker) : bytes_(count * sizeof(T)), tracker_(&tracker) {
    tracker_->reserve(bytes_);  // throws OutOfMemory → an `oom` row
    ptr_ = static_cast<T*>(cuda::device_alloc(bytes_));
    if (ptr_ == nullptr) {
      tracker_->release(bytes_);
      throw OutOfMemory("cudaMalloc of " + std::to_string(bytes_) + " bytes failed");
    }
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    cuda::device_free(ptr_);
    tracker_->release(bytes_);
  }
  T* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_;
  MemoryTracker* tracker_;
  T* ptr_ = nullptr;
};

template <class T>
void upload(DeviceBuffer<T>& dst, const std::vector<T>& src) {
  cuda::copy_to_device(dst.get(), src.data(), src.size() * sizeof(T));
}

// The mask as CSR key ranges per query row (the same for every batch and head).
struct RowRanges {
  std::vector<std::int64_t> row_ptr{0}, lo, hi;
  explicit RowRanges(const Mask& mask) {
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    for (std::int64_t i = 0; i < mask.seqlen_q(); ++i) {
      mask.row_ranges(i, ranges);
      for (auto [a, b] : ranges) {
        lo.push_back(a);
        hi.push_back(b);
      }
      row_ptr.push_back(static_cast<std::int64_t>(lo.size()));
    }
  }
};

class CudaNaiveExecution final : public Execution {
 public:
  // Allocation and uploads happen here, untimed.
  CudaNaiveExecution(const Problem& p, const Inputs& in, MemoryTracker& mem)
      : ranges_(*p.mask),
        q_(in.q.size(), mem),
        k_(in.k.size(), mem),
        v_(in.v.size(), mem),
        o_(p.shape.q_elems(), mem),
        lse_(p.shape.lse_elems(), mem),
        row_ptr_(ranges_.row_ptr.size(), mem),
        lo_(ranges_.lo.size(), mem),
        hi_(ranges_.hi.size(), mem) {
    upload(q_, in.q);
    upload(k_, in.k);
    upload(v_, in.v);
    upload(row_ptr_, ranges_.row_ptr);
    upload(lo_, ranges_.lo);
    upload(hi_, ranges_.hi);
    const Shape& s = p.shape;
    args_ = {s.batch,
             s.heads_q,
             s.heads_kv,
             s.seqlen_q,
             s.seqlen_k,
             s.head_dim,
             static_cast<float>(p.softmax_scale),
             q_.get(),
             k_.get(),
             v_.get(),
             o_.get(),
             lse_.get(),
             row_ptr_.get(),
             lo_.get(),
             hi_.get()};
  }

  void run() override { cuda::forward(args_); }
  // GPU time from CUDA events around the launch, not host time around a synchronisation.
  IterationTime timed_run() override { return {cuda::forward_timed(args_)}; }

  void fetch_outputs(Outputs& out) override {
    out.o.resize(o_.bytes() / sizeof(float));
    out.lse.resize(lse_.bytes() / sizeof(float));
    cuda::copy_to_host(out.o.data(), o_.get(), o_.bytes());
    cuda::copy_to_host(out.lse.data(), lse_.get(), lse_.bytes());
  }

 private:
  RowRanges ranges_;
  DeviceBuffer<float> q_, k_, v_, o_, lse_;
  DeviceBuffer<std::int64_t> row_ptr_, lo_, hi_;
  cuda::ForwardArgs args_;
};

class CudaNaiveBackend final : public Backend {
 public:
  BackendInfo info() const override {
    BackendInfo i;
    i.name = "example.cuda_naive";
    i.device = Device::cuda;
    i.description = "plugin example: one CUDA thread per query row, fp32, forward only";
    i.dtypes = {DType::fp32};
    i.passes = {Pass::fwd};  // honest: no backward kernel
    return i;
  }

  Support supports(const Problem& p) const override {
    if (Support s = check_info(info(), p); !s.ok) return s;
    if (p.shape.head_dim > cuda::max_head_dim)
      return Support::no("head_dim " + std::to_string(p.shape.head_dim) + " above " +
                         std::to_string(cuda::max_head_dim) + " (per-thread accumulator)");
    if (cuda::device_count() == 0) return Support::no("no CUDA device");
    return Support::yes();
  }

  std::unique_ptr<Execution> prepare(const Problem& p, const Inputs& in, Resources& r) override {
    return std::make_unique<CudaNaiveExecution>(p, in, *r.device);
  }
};

}  // namespace

std::shared_ptr<attnbench::Backend> make_cuda_naive_backend() { return std::make_shared<CudaNaiveBackend>(); }

}  // namespace example
