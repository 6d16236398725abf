// World set-up, cached sub-communicators, and the agree/fatal protocol for failures inside CP cases.
#include "harness/comm/world.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <memory>

#include "attnbench/types.hpp"
#include "harness/comm/local_comm.hpp"
#ifdef ATTNBENCH_WITH_MPI
#include "harness/comm/mpi_comm.hpp"
#endif

namespace attnbench::comm {

namespace {

struct WorldState {
  std::unique_ptr<Communicator> world;
  std::map<int, std::unique_ptr<Communicator>> by_size;  // nullptr entries: this rank is outside
  bool we_initialized_mpi = false;
};

WorldState& state() {
  static WorldState s;
  return s;
}

}  // namespace

bool launched_under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS",
                        "SLURM_STEP_NUM_TASKS"}) {
    const char* s = std::getenv(v);
    if (s != nullptr && *s != '\0') return true;
  }
  return false;
}

void init_world(int* argc, char*** argv) {
  WorldState& s = state();
  if (s.world) return;
#ifdef ATTNBENCH_WITH_MPI
  if (launched_under_mpi() || mpi_initialized()) {
    if (!mpi_initialized()) {
      mpi_init(argc, argv);
      s.we_initialized_mpi = true;
    }
    s.world = make_mpi_world();
    return;
  }
#endif
  s.world = make_local_communicator();
}

void finalize_world() {
  WorldState& s = state();
  s.by_size.clear();
  s.world.reset();
#ifdef ATTNBENCH_WITH_MPI
  if (s.we_initialized_mpi) mpi_finalize();
  s.we_initialized_mpi = false;
#endif
}

Communicator& world() {
  if (!state().world) init_world();
  return *state().world;
}

bool is_lead() { return world().rank() == 0; }

void check_world_size(int largest, const std::string& where) {
  const int launched = world().size();
  if (largest > launched)
    throw InputError(
        fmt::format("{}: world_sizes: world size {} is larger than the launch ({} rank{}); start it with "
                    "`mpirun -np {}` (scripts/mpirun.sh) or lower world_sizes",
                    where, largest, launched, launched == 1 ? "" : "s", largest));
}

void describe_launch(std::vector<std::pair<std::string, std::string>>& context) {
  std::string library = "none";
#ifdef ATTNBENCH_WITH_MPI
  if (world().kind() == "mpi") library = mpi_library_version();
#endif
  std::string quoted = "\"";
  for (char ch : library) {
    if (ch == '"' || ch == '\\') quoted += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) quoted += ch;
  }
  quoted += '"';
  auto set = [&](const std::string& key, const std::string& value) {
    for (auto& [k, v] : context)
      if (k == key) {
        v = value;
        return;
      }
    context.emplace_back(key, value);
  };
  set("mpi_library", quoted);
  set("world_size", std::to_string(world().size()));
}

Communicator* first_ranks(int size) {
  WorldState& s = state();
  Communicator& w = world();
  check_world_size(size, "world size");
  auto it = s.by_size.find(size);
  if (it == s.by_size.end()) it = s.by_size.emplace(size, w.split(w.rank() < size ? 0 : -1, w.rank())).first;
  return it->second.get();
}

void agree(Communicator& comm, std::exception_ptr local) {
  // Status codes: 0 ok, 1 out of memory, 2 other error; then the lowest failing rank.
  int code = 0;
  std::string message;
  if (local) {
    try {
      std::rethrow_exception(local);
    } catch (const OutOfMemory& e) {
      code = 1;
      message = e.what();
    } catch (const std::exception& e) {
      code = 2;
      message = e.what();
    } catch (...) {
      code = 2;
      message = "a non-standard exception (not derived from std::exception) was thrown";
    }
  }
  double v[2] = {static_cast<double>(code), code != 0 ? -static_cast<double>(comm.rank()) : -1e9};
  comm.allreduce(v, 2, ReduceOp::max);
  if (v[0] == 0) return;
  const int root = static_cast<int>(-v[1]);
  // The failing rank's own message travels to everyone (length first).
  std::uint64_t len = comm.rank() == root ? message.size() : 0;
  comm.broadcast(&len, sizeof len, root);
  std::string text(len, '\0');
  if (comm.rank() == root) text = message;
  if (len > 0) comm.broadcast(text.data(), len, root);
  const std::string full = comm.size() > 1 ? fmt::format("rank {}: {}", root, text) : text;
  // Every rank throws the most severe kind seen anywhere (error over oom).
  if (v[0] >= 2) throw std::runtime_error(full);
  throw OutOfMemory(full);
}

void agree(Communicator& comm, const std::function<void()>& step) {
  std::exception_ptr local;
  try {
    step();
  } catch (...) {
    local = std::current_exception();
  }
  agree(comm, local);
}

void fatal(Communicator& comm, const std::string& message) {
  fmt::print(stderr, "attnbench: fatal on world rank {} (rank {} of {}): {}; ending the job\n",
             world().rank(), comm.rank(), comm.size(), message);
  std::fflush(stderr);
  comm.abort(3);
  std::_Exit(3);  // not reached: abort ends the job
}

void collective(Communicator& comm, const std::string& what, const std::function<void()>& step) {
  if (comm.size() == 1) {
    step();
    return;
  }
  try {
    step();
  } catch (const std::exception& e) {
    fatal(comm, fmt::format("{} failed while other ranks were communicating: {}", what, e.what()));
  } catch (...) {
    fatal(comm, what + " failed while other ranks were communicating: unknown exception");
  }
}

}  // namespace attnbench::comm
