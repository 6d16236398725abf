// An allreduce of a failure flag and the lowest failing rank, then a broadcast of its exit code and message.
#include "harness/agreement.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "attnbench/types.hpp"

namespace attnbench {

Outcome outcome_of(const std::function<void()>& step) {
  try {
    step();
  } catch (const InputError& e) {  // OutputError included
    return {2, e.what()};
  } catch (const std::exception& e) {
    return {1, e.what()};
  } catch (...) {
    return {1, "a non-standard exception (not derived from std::exception) was thrown"};
  }
  return {};
}

Outcome agree_outcome(Communicator& comm, const Outcome& local) {
  if (comm.size() <= 1) return local;
  comm.idle_barrier();
  double v[2] = {local ? 1.0 : 0.0, local ? -static_cast<double>(comm.rank()) : -1e9};
  comm.allreduce(v, 2, ReduceOp::max);
  if (v[0] == 0) return {};
  const int root = static_cast<int>(-v[1]);
  std::int64_t head[2] = {local.exit_code, static_cast<std::int64_t>(local.message.size())};
  comm.broadcast(head, sizeof head, root);
  std::string text(static_cast<std::size_t>(head[1]), '\0');
  if (comm.rank() == root) text = local.message;
  if (!text.empty()) comm.broadcast(text.data(), text.size(), root);
  return {static_cast<int>(head[0]), root == 0 ? text : fmt::format("rank {}: {}", root, text)};
}

}  // namespace attnbench
