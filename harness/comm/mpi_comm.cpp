// Communicator over MPI: nonblocking pairs, v-collectives, splits; bytes counted per process.
#include "harness/comm/mpi_comm.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace attnbench::comm {

namespace {

int checked_int(std::int64_t n, const char* what) {
  if (n < 0 || n > INT_MAX)
    throw std::runtime_error(fmt::format("MPI {}: count {} does not fit an int", what, n));
  return static_cast<int>(n);
}

std::vector<int> to_ints(const std::vector<std::int64_t>& v, const char* what) {
  std::vector<int> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = checked_int(v[i], what);
  return r;
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  long long sum = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (sum > INT_MAX) throw std::runtime_error("MPI displacement does not fit an int");
    d[i] = static_cast<int>(sum);
    sum += counts[i];
  }
  return d;
}

class MpiRequest final : public CommRequest {
 public:
  MpiRequest() = default;
  MPI_Request* handle() { return &req_; }
  // Counts and displacements must live until the operation completes.
  std::vector<int> counts, displs;
  void wait() override {
    if (req_ != MPI_REQUEST_NULL) MPI_Wait(&req_, MPI_STATUS_IGNORE);
  }
  ~MpiRequest() override { wait(); }

 private:
  MPI_Request req_ = MPI_REQUEST_NULL;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, std::shared_ptr<std::atomic<std::uint64_t>> counter)
      : comm_(comm), counter_(std::move(counter)) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kind() const override { return "mpi"; }
  void barrier() override { MPI_Barrier(comm_); }
  void idle_barrier() override {
    MPI_Request r;
    MPI_Ibarrier(comm_, &r);
    for (int done = 0;;) {
      MPI_Test(&r, &done, MPI_STATUS_IGNORE);
      if (done) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  CommRequestPtr isend(const void* buf, std::size_t bytes, int dest, int tag) override {
    auto r = std::make_unique<MpiRequest>();
    MPI_Isend(buf, checked_int(static_cast<std::int64_t>(bytes), "isend"), MPI_BYTE, dest, tag, comm_,
              r->handle());
    if (dest != rank_) *counter_ += bytes;
    return r;
  }
  CommRequestPtr irecv(void* buf, std::size_t bytes, int src, int tag) override {
    auto r = std::make_unique<MpiRequest>();
    MPI_Irecv(buf, checked_int(static_cast<std::int64_t>(bytes), "irecv"), MPI_BYTE, src, tag, comm_,
              r->handle());
    return r;
  }
  void alltoallv(const float* send, const std::vector<std::int64_t>& sc, float* recv,
                 const std::vector<std::int64_t>& rc) override {
    const auto s = to_ints(sc, "alltoallv"), r = to_ints(rc, "alltoallv");
    const auto sd = displacements(s), rd = displacements(r);
    MPI_Alltoallv(send, s.data(), sd.data(), MPI_FLOAT, recv, r.data(), rd.data(), MPI_FLOAT, comm_);
    std::uint64_t bytes = 0;
    for (int i = 0; i < size_; ++i)
      if (i != rank_) bytes += static_cast<std::uint64_t>(s[i]) * sizeof(float);
    *counter_ += bytes;
  }
  CommRequestPtr iallgatherv(const float* send, std::int64_t count, float* recv,
                             const std::vector<std::int64_t>& counts) override {
    auto r = std::make_unique<MpiRequest>();
    r->counts = to_ints(counts, "allgatherv");
    r->displs = displacements(r->counts);
    MPI_Iallgatherv(send, checked_int(count, "allgatherv"), MPI_FLOAT, recv, r->counts.data(),
                    r->displs.data(), MPI_FLOAT, comm_, r->handle());
    *counter_ += static_cast<std::uint64_t>(count) * sizeof(float) * static_cast<std::uint64_t>(size_ - 1);
    return r;
  }
  void reduce_scatter(const float* send, float* recv, const std::vector<std::int64_t>& counts) override {
    const auto c = to_ints(counts, "reduce_scatter");
    MPI_Reduce_scatter(send, recv, c.data(), MPI_FLOAT, MPI_SUM, comm_);
    std::uint64_t total = 0;
    for (int i = 0; i < size_; ++i)
      if (i != rank_) total += static_cast<std::uint64_t>(c[i]) * sizeof(float);
    *counter_ += total;  // every block but our own leaves this rank (as a ring would send it)
  }
  void allreduce(double* data, std::size_t n, ReduceOp op) override {
    const MPI_Op o = op == ReduceOp::sum ? MPI_SUM : op == ReduceOp::max ? MPI_MAX : MPI_MIN;
    MPI_Allreduce(MPI_IN_PLACE, data, checked_int(static_cast<std::int64_t>(n), "allreduce"), MPI_DOUBLE, o,
                  comm_);
  }
  void broadcast(void* buf, std::size_t bytes, int root) override {
    MPI_Bcast(buf, checked_int(static_cast<std::int64_t>(bytes), "broadcast"), MPI_BYTE, root, comm_);
  }
  std::unique_ptr<Communicator> split(int color, int key) override {
    MPI_Comm out = MPI_COMM_NULL;
    MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &out);
    if (out == MPI_COMM_NULL) return nullptr;
    return std::make_unique<MpiCommunicator>(out, counter_);
  }
  std::unique_ptr<Communicator> dup() override {
    MPI_Comm out = MPI_COMM_NULL;
    MPI_Comm_dup(comm_, &out);
    return std::make_unique<MpiCommunicator>(out, counter_);
  }
  std::uint64_t bytes_sent() const override { return counter_->load(); }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::shared_ptr<std::atomic<std::uint64_t>> counter_;
};

}  // namespace

void mpi_init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
}

void mpi_finalize() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}

bool mpi_initialized() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<std::size_t>(len));
  const auto cut = s.find_first_of(",\n");
  return cut == std::string::npos ? s : s.substr(0, cut);
}

std::unique_ptr<Communicator> make_mpi_world() {
  MPI_Comm c = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &c);
  return std::make_unique<MpiCommunicator>(c, std::make_shared<std::atomic<std::uint64_t>>(0));
}

}  // namespace attnbench::comm
