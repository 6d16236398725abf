// Device check of comm: nccl's communicator: MPI-bootstrapped NCCL, a grouped ring step and an uneven
// all-gather. Run on a GPU machine (scripts/gpu-check.sh step nccl-probe): mpirun -np P nccl_probe; exits 77
// without a GPU.
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "harness/comm/device_comm.hpp"
#include "harness/comm/world.hpp"

using namespace attnbench;

namespace {

#define PROBE_CUDA(expr)                                                             \
  do {                                                                               \
    if (const cudaError_t e = (expr); e != cudaSuccess)                              \
      throw std::runtime_error(fmt::format("{}: {}", #expr, cudaGetErrorString(e))); \
  } while (0)

// Fills n floats on the device with `value + i`.
float* device_iota(std::size_t n, float value) {
  std::vector<float> host(n);
  for (std::size_t i = 0; i < n; ++i) host[i] = value + static_cast<float>(i);
  void* raw = nullptr;
  PROBE_CUDA(cudaMalloc(&raw, n * sizeof(float)));
  auto* d = static_cast<float*>(raw);
  PROBE_CUDA(cudaMemcpy(d, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  return d;
}

std::vector<float> to_host(const float* d, std::size_t n) {
  std::vector<float> h(n);
  PROBE_CUDA(cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
  return h;
}

int probe() {
  Communicator& world = comm::world();
  const int P = world.size(), me = world.rank();
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "nccl_probe: no CUDA device\n");
    return 77;
  }
  PROBE_CUDA(cudaSetDevice(me % devices));
  if (const std::string why = comm::nccl_unavailable_reason(); !why.empty()) {
    std::fprintf(stderr, "nccl_probe: %s\n", why.c_str());
    return 1;
  }
  if (comm::is_lead()) std::printf("nccl_probe: %s\n", comm::nccl_library_note().c_str());
  auto nccl = comm::make_nccl_device_comm(world);
  cudaStream_t stream = nullptr;
  PROBE_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  // One ring step: our block forward, the previous rank's in, in one group (as the ring plan issues it).
  const std::size_t n = 1 << 20;
  float* mine = device_iota(n, 1000.0f * static_cast<float>(me));
  float* got = device_iota(n, -1.0f);
  nccl->group_start();
  nccl->send(mine, n * sizeof(float), (me + 1) % P, stream);
  nccl->recv(got, n * sizeof(float), (me - 1 + P) % P, stream);
  nccl->group_end();
  PROBE_CUDA(cudaStreamSynchronize(stream));
  const auto ring = to_host(got, n);
  const float prev = 1000.0f * static_cast<float>((me - 1 + P) % P);
  int wrong = 0;
  for (std::size_t i = 0; i < n; ++i) wrong += ring[i] != prev + static_cast<float>(i);

  // An uneven all-gather (CP layouts are uneven): rank r holds r + 5 floats.
  std::vector<std::size_t> bytes(static_cast<std::size_t>(P));
  std::size_t total = 0;
  for (int r = 0; r < P; ++r) {
    bytes[r] = (static_cast<std::size_t>(r) + 5) * sizeof(float);
    total += bytes[r] / sizeof(float);
  }
  float* all = device_iota(total, -1.0f);
  nccl->all_gatherv(mine, all, bytes, stream);
  PROBE_CUDA(cudaStreamSynchronize(stream));
  const auto gathered = to_host(all, total);
  std::size_t at = 0;
  for (int r = 0; r < P; ++r)
    for (std::size_t i = 0; i < bytes[r] / sizeof(float); ++i, ++at)
      wrong += gathered[at] != 1000.0f * static_cast<float>(r) + static_cast<float>(i);

  double wrong_all = wrong;
  world.allreduce(&wrong_all, 1, ReduceOp::sum);
  if (comm::is_lead())
    std::printf(
        "nccl_probe: %d rank(s), kind %s, ring step of %zu floats and uneven all-gather: %s (%.0f wrong)\n",
        P, nccl->kind().c_str(), n, wrong_all == 0 ? "ok" : "WRONG", wrong_all);
  cudaFree(mine);
  cudaFree(got);
  cudaFree(all);
  cudaStreamDestroy(stream);
  return wrong_all == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  comm::init_world(&argc, &argv);
  int rc = 1;
  try {
    rc = probe();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nccl_probe: rank %d: %s\n", comm::world().rank(), e.what());
  }
  comm::finalize_world();
  return rc;
}
