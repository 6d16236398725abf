// The v-collectives of DeviceComm as groups of sends and receives (what NCCL lacks natively).
#include "harness/comm/device_comm.hpp"

#include <stdexcept>

namespace attnbench::comm {

std::vector<std::size_t> offsets_of(const std::vector<std::size_t>& sizes) {
  std::vector<std::size_t> at(sizes.size(), 0);
  for (std::size_t i = 1; i < sizes.size(); ++i) at[i] = at[i - 1] + sizes[i - 1];
  return at;
}

void DeviceComm::all_gatherv(const void* mine, void* all, const std::vector<std::size_t>& bytes,
                             StreamHandle stream) {
  const int P = size(), me = rank();
  if (static_cast<int>(bytes.size()) != P) throw std::logic_error("all_gatherv: one size per rank needed");
  const auto at = offsets_of(bytes);
  auto* out = static_cast<unsigned char*>(all);
  group_start();
  // Our own block goes through the communicator too (a send to ourselves), so the copy is
  // ordered on the stream like the others rather than done by the host.
  for (int r = 0; r < P; ++r) {
    if (bytes[me] > 0) send(mine, bytes[me], r, stream);
    if (bytes[r] > 0) recv(out + at[r], bytes[r], r, stream);
  }
  group_end();
}

void DeviceComm::all_to_allv(const void* blocks, const std::vector<std::size_t>& send_bytes, void* into,
                             const std::vector<std::size_t>& recv_bytes, StreamHandle stream) {
  const int P = size();
  if (static_cast<int>(send_bytes.size()) != P || static_cast<int>(recv_bytes.size()) != P)
    throw std::logic_error("all_to_allv: one size per rank needed");
  const auto sat = offsets_of(send_bytes), rat = offsets_of(recv_bytes);
  const auto* in = static_cast<const unsigned char*>(blocks);
  auto* out = static_cast<unsigned char*>(into);
  group_start();
  for (int r = 0; r < P; ++r) {
    if (send_bytes[r] > 0) send(in + sat[r], send_bytes[r], r, stream);
    if (recv_bytes[r] > 0) recv(out + rat[r], recv_bytes[r], r, stream);
  }
  group_end();
}

#ifndef ATTNBENCH_HAVE_NCCL
std::string nccl_unavailable_reason() {
  return "this build has no NCCL (configure found no nccl.h and libnccl: build with the CUDA toolkit's NCCL "
         "or -DATTNBENCH_NCCL_ROOT=<unpacked nvidia-nccl-cu13 wheel>/nvidia/nccl)";
}

std::string nccl_library_note() { return {}; }

std::unique_ptr<DeviceComm> make_nccl_device_comm(Communicator&) {
  throw std::runtime_error("comm: nccl: " + nccl_unavailable_reason());
}
#endif

}  // namespace attnbench::comm
