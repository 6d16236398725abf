// DeviceComm over NCCL (built only with ATTNBENCH_HAVE_NCCL): bootstrap over the host communicator, grouped
// p2p.
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "harness/comm/device_comm.hpp"

namespace attnbench::comm {

namespace {

// libnccl is opened at run time, not linked: the binary then starts on machines without it
// (every CPU and GPU check that does not ask for comm: nccl), and a carried wheel's
// libnccl.so.2 is chosen by ATTNBENCH_NCCL_LIBRARY without rebuilding.
struct Nccl {
  decltype(&::ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&::ncclCommInitRank) init_rank = nullptr;
  decltype(&::ncclCommDestroy) destroy = nullptr;
  decltype(&::ncclGroupStart) group_start = nullptr;
  decltype(&::ncclGroupEnd) group_end = nullptr;
  decltype(&::ncclSend) send = nullptr;
  decltype(&::ncclRecv) recv = nullptr;
  decltype(&::ncclAllGather) all_gather = nullptr;
  decltype(&::ncclGetErrorString) error_string = nullptr;
  decltype(&::ncclGetVersion) get_version = nullptr;
  std::string path;   // what was opened
  std::string error;  // why it could not be loaded; empty when it was
};

template <class F>
void resolve(void* lib, const char* name, F& f, std::string& error) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (f == nullptr && error.empty()) error = std::string("libnccl has no ") + name;
}

const Nccl& nccl() {
  static const Nccl n = [] {
    Nccl x;
    const char* env = std::getenv("ATTNBENCH_NCCL_LIBRARY");
    const std::string path = env != nullptr && *env != '\0' ? env : "libnccl.so.2";
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = dlerror();
      x.error = "cannot load " + path + " (" + (why != nullptr ? why : "unknown") +
                "; set ATTNBENCH_NCCL_LIBRARY to a libnccl.so.2, e.g. from the nvidia-nccl-cu13 wheel)";
      return x;
    }
    resolve(lib, "ncclGetUniqueId", x.get_unique_id, x.error);
    resolve(lib, "ncclCommInitRank", x.init_rank, x.error);
    resolve(lib, "ncclCommDestroy", x.destroy, x.error);
    resolve(lib, "ncclGroupStart", x.group_start, x.error);
    resolve(lib, "ncclGroupEnd", x.group_end, x.error);
    resolve(lib, "ncclSend", x.send, x.error);
    resolve(lib, "ncclRecv", x.recv, x.error);
    resolve(lib, "ncclAllGather", x.all_gather, x.error);
    resolve(lib, "ncclGetErrorString", x.error_string, x.error);
    resolve(lib, "ncclGetVersion", x.get_version, x.error);
    x.path = path;
    return x;
  }();
  return n;
}

// "file:line: call: NCCL: error", as the CUDA checks of backends/cuda say it.
void check(ncclResult_t r, const char* call, int line) {
  if (r == ncclSuccess) return;
  throw std::runtime_error(std::string(__FILE__) + ":" + std::to_string(line) + ": " + call +
                           ": NCCL: " + nccl().error_string(r));
}
#define ATTNBENCH_NCCL_CHECK(expr) check((expr), #expr, __LINE__)

class NcclDeviceComm final : public DeviceComm {
 public:
  explicit NcclDeviceComm(Communicator& host) : rank_(host.rank()), size_(host.size()) {
    ncclUniqueId id{};
    if (rank_ == 0) ATTNBENCH_NCCL_CHECK(nccl().get_unique_id(&id));
    host.broadcast(&id, sizeof id, 0);  // MPI_Bcast under MPI
    // One NCCL rank per process on its current device (harness/comm picks the device per rank);
    // two ranks on one GPU need NCCL >= 2.30's NCCL_MULTI_RANK_GPU_ENABLE=1 (docs/nccl.md).
    ATTNBENCH_NCCL_CHECK(nccl().init_rank(&comm_, size_, id, rank_));
  }
  ~NcclDeviceComm() override {
    if (const ncclResult_t r = nccl().destroy(comm_); r != ncclSuccess)
      std::fprintf(stderr, "attnbench: ncclCommDestroy: %s\n", nccl().error_string(r));
  }
  NcclDeviceComm(const NcclDeviceComm&) = delete;
  NcclDeviceComm& operator=(const NcclDeviceComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kind() const override { return "nccl"; }
  void group_start() override { ATTNBENCH_NCCL_CHECK(nccl().group_start()); }
  void group_end() override { ATTNBENCH_NCCL_CHECK(nccl().group_end()); }
  void send(const void* buf, std::size_t bytes, int peer, StreamHandle s) override {
    ATTNBENCH_NCCL_CHECK(nccl().send(buf, bytes, ncclChar, peer, comm_, static_cast<cudaStream_t>(s)));
    if (peer != rank_) bytes_ += bytes;
  }
  void recv(void* buf, std::size_t bytes, int peer, StreamHandle s) override {
    ATTNBENCH_NCCL_CHECK(nccl().recv(buf, bytes, ncclChar, peer, comm_, static_cast<cudaStream_t>(s)));
  }
  // Equal blocks take NCCL's own ring/tree all-gather; uneven ones the grouped p2p of the base.
  void all_gatherv(const void* mine, void* all, const std::vector<std::size_t>& bytes,
                   StreamHandle s) override {
    bool equal = static_cast<int>(bytes.size()) == size_;
    for (std::size_t b : bytes) equal = equal && b == bytes.front();
    if (!equal) return DeviceComm::all_gatherv(mine, all, bytes, s);
    ATTNBENCH_NCCL_CHECK(
        nccl().all_gather(mine, all, bytes.front(), ncclChar, comm_, static_cast<cudaStream_t>(s)));
    bytes_ += static_cast<std::uint64_t>(size_ - 1) * bytes.front();
  }
  std::uint64_t bytes_sent() const override { return bytes_; }

 private:
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  std::uint64_t bytes_ = 0;
};

}  // namespace

std::string nccl_unavailable_reason() { return nccl().error; }

std::string nccl_library_note() {
  if (!nccl().error.empty()) return {};
  int v = 0;
  if (nccl().get_version(&v) != ncclSuccess) return nccl().path;
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100) + " (" + nccl().path + ")";
}

std::unique_ptr<DeviceComm> make_nccl_device_comm(Communicator& host) {
  if (const std::string why = nccl_unavailable_reason(); !why.empty())
    throw std::runtime_error("comm: nccl: " + why);
  return std::make_unique<NcclDeviceComm>(host);
}

}  // namespace attnbench::comm
