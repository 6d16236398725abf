// DeviceComm over a host Communicator: grouped operations posted together at group_end(), then awaited.
#include "harness/comm/host_device_comm.hpp"

#include <stdexcept>
#include <vector>

namespace attnbench::comm {

namespace {

constexpr int kTag = 27;  // one tag: messages between two ranks match in posting order, as in NCCL

class HostDeviceComm final : public DeviceComm {
 public:
  explicit HostDeviceComm(Communicator& comm) : comm_(comm.dup()) {}

  int rank() const override { return comm_->rank(); }
  int size() const override { return comm_->size(); }
  std::string kind() const override { return "host-fake"; }

  void group_start() override { ++depth_; }
  void group_end() override {
    if (depth_ == 0) throw std::logic_error("DeviceComm: group_end without group_start");
    if (--depth_ == 0) flush();
  }
  void send(const void* buf, std::size_t bytes, int peer, StreamHandle) override {
    check_peer(peer);
    ops_.push_back({true, const_cast<void*>(buf), bytes, peer});
    if (peer != rank()) bytes_ += bytes;
    if (depth_ == 0) flush();
  }
  void recv(void* buf, std::size_t bytes, int peer, StreamHandle) override {
    check_peer(peer);
    ops_.push_back({false, buf, bytes, peer});
    if (depth_ == 0) flush();
  }
  std::uint64_t bytes_sent() const override { return bytes_; }

 private:
  struct Op {
    bool is_send;
    void* buf;
    std::size_t bytes;
    int peer;
  };
  void check_peer(int peer) const {
    if (peer < 0 || peer >= size()) throw std::logic_error("DeviceComm: peer rank out of range");
  }
  // Receives first, then sends, then wait for all: the order that never deadlocks a group.
  void flush() {
    std::vector<CommRequestPtr> reqs;
    for (const Op& o : ops_)
      if (!o.is_send) reqs.push_back(comm_->irecv(o.buf, o.bytes, o.peer, kTag));
    for (const Op& o : ops_)
      if (o.is_send) reqs.push_back(comm_->isend(o.buf, o.bytes, o.peer, kTag));
    ops_.clear();
    // A local communicator completes a self-receive only once the send is queued: wait sends first.
    for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) (*it)->wait();
  }

  std::unique_ptr<Communicator> comm_;
  std::vector<Op> ops_;
  int depth_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<DeviceComm> make_host_device_comm(Communicator& comm) {
  return std::make_unique<HostDeviceComm>(comm);
}

}  // namespace attnbench::comm
