// The single-process communicator: messages to itself are copies, collectives are identities.
#include "harness/comm/local_comm.hpp"

#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <vector>

namespace attnbench {

namespace {

struct DoneRequest final : CommRequest {
  void wait() override {}
};

struct PairRequest final : CommRequest {
  CommRequestPtr a, b;
  void wait() override {
    if (a) a->wait();
    if (b) b->wait();
  }
};

}  // namespace

CommRequestPtr Communicator::exchange(const void* send, std::size_t send_bytes, int dest, void* recv,
                                      std::size_t recv_bytes, int src, int tag) {
  if (dest == rank() && src == rank()) {  // a ring of one: the block comes back to itself
    if (send_bytes != recv_bytes) throw std::logic_error("exchange with itself: sizes differ");
    if (send_bytes > 0 && send != recv) std::memmove(recv, send, send_bytes);
    return std::make_unique<DoneRequest>();
  }
  auto r = std::make_unique<PairRequest>();
  r->b = irecv(recv, recv_bytes, src, tag);  // receive first: the peer's send finds it posted
  r->a = isend(send, send_bytes, dest, tag);
  return r;
}

namespace comm {

namespace {

// Messages a rank sends to itself wait here until the matching receive completes.
struct Mailbox {
  struct Message {
    int tag;
    std::vector<unsigned char> data;
  };
  std::deque<Message> messages;
};

class LocalRecv final : public CommRequest {
 public:
  LocalRecv(std::shared_ptr<Mailbox> box, void* buf, std::size_t bytes, int tag)
      : box_(std::move(box)), buf_(buf), bytes_(bytes), tag_(tag) {}
  void wait() override {
    if (done_) return;
    for (auto it = box_->messages.begin(); it != box_->messages.end(); ++it) {
      if (it->tag != tag_) continue;
      if (it->data.size() != bytes_) throw std::logic_error("local communicator: message size mismatch");
      if (bytes_ > 0) std::memcpy(buf_, it->data.data(), bytes_);
      box_->messages.erase(it);
      done_ = true;
      return;
    }
    throw std::logic_error("local communicator: receive with no matching send");
  }

 private:
  std::shared_ptr<Mailbox> box_;
  void* buf_;
  std::size_t bytes_;
  int tag_;
  bool done_ = false;
};

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string kind() const override { return "local"; }
  void barrier() override {}
  void idle_barrier() override {}
  CommRequestPtr isend(const void* buf, std::size_t bytes, int dest, int tag) override {
    check_peer(dest);
    const auto* p = static_cast<const unsigned char*>(buf);
    box_->messages.push_back({tag, std::vector<unsigned char>(p, p + bytes)});
    return std::make_unique<DoneRequest>();
  }
  CommRequestPtr irecv(void* buf, std::size_t bytes, int src, int tag) override {
    check_peer(src);
    return std::make_unique<LocalRecv>(box_, buf, bytes, tag);
  }
  void alltoallv(const float* send, const std::vector<std::int64_t>& sc, float* recv,
                 const std::vector<std::int64_t>& rc) override {
    if (sc.at(0) != rc.at(0)) throw std::logic_error("local alltoallv: counts differ");
    if (send != recv) std::memmove(recv, send, static_cast<std::size_t>(sc[0]) * sizeof(float));
  }
  CommRequestPtr iallgatherv(const float* send, std::int64_t count, float* recv,
                             const std::vector<std::int64_t>&) override {
    if (send != recv) std::memmove(recv, send, static_cast<std::size_t>(count) * sizeof(float));
    return std::make_unique<DoneRequest>();
  }
  void reduce_scatter(const float* send, float* recv, const std::vector<std::int64_t>& counts) override {
    if (send != recv) std::memmove(recv, send, static_cast<std::size_t>(counts.at(0)) * sizeof(float));
  }
  void allreduce(double*, std::size_t, ReduceOp) override {}
  void broadcast(void*, std::size_t, int) override {}
  std::unique_ptr<Communicator> split(int color, int) override {
    if (color < 0) return nullptr;
    return std::make_unique<LocalCommunicator>();
  }
  std::unique_ptr<Communicator> dup() override { return std::make_unique<LocalCommunicator>(); }
  std::uint64_t bytes_sent() const override { return 0; }  // nothing leaves the process
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 private:
  static void check_peer(int peer) {
    if (peer != 0) throw std::logic_error("local communicator: peer rank out of range");
  }
  std::shared_ptr<Mailbox> box_ = std::make_shared<Mailbox>();
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() { return std::make_unique<LocalCommunicator>(); }

}  // namespace comm
}  // namespace attnbench
