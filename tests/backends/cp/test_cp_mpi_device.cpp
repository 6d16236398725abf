// MPI tests of the device path of comm: nccl through the host fake: the ring plan and the v-collectives.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <numeric>

#include "backends/cp/schedule.hpp"
#include "harness/check.hpp"
#include "harness/comm/world.hpp"
#include "harness/inputs.hpp"
#include "tests/backends/cp/cp_test_util.hpp"
#include "tests/backends/cp/device_ring_test_util.hpp"

using namespace attnbench;

TEST_CASE("the device ring plan through the host fake matches the float64 reference", "[cp][mpi][nccl]") {
  Communicator& w = comm::world();
  const int P = w.size();
  const std::vector<MaskSpec> masks{{"causal", {}},
                                    {"causal_document", {{"doc_lengths", "[30, 50, 48]"}}},
                                    {"share_question", {{"doc_lengths", "[40, 30, 58]"}}}};
  for (const auto& mask : masks)
    for (cp::Balance balance : {cp::Balance::contiguous, cp::Balance::zigzag}) {
      const auto p = test::make_problem(mask, 128, 4, 2, 16, Pass::fwd_bwd, "ring", P);
      const Inputs in = generate_inputs(p);
      std::vector<cp::StepTime> times;
      const Outputs got = test::run_device_ring(p, "cpu.flash", in, w, balance, &times);
      const CheckResult r = compare_outputs(got, test::reference_outputs(p, in), Pass::fwd_bwd, 1e-5, 1e-4);
      INFO(fmt::format("rank {} P={} {} balance {}: rel L2 {} in {}", w.rank(), P, mask.name,
                       balance == cp::Balance::zigzag ? "zigzag" : "contiguous", r.rel_l2_err, r.worst));
      CHECK(r.passed);
      CHECK(static_cast<int>(times.size()) == P);  // one compute and one exposed time per step
    }
}

TEST_CASE("device all-gather and all-to-all through the host fake equal the host path", "[cp][mpi][nccl]") {
  Communicator& w = comm::world();
  const int P = w.size(), me = w.rank();
  auto dc = comm::make_host_device_comm(w);
  // Uneven blocks, as CP layouts give: rank r holds r + 3 floats.
  std::vector<std::int64_t> counts(P);
  std::vector<std::size_t> bytes(P);
  for (int r = 0; r < P; ++r) {
    counts[r] = r + 3;
    bytes[r] = static_cast<std::size_t>(counts[r]) * sizeof(float);
  }
  std::vector<float> mine(static_cast<std::size_t>(counts[me]));
  std::iota(mine.begin(), mine.end(), 100.0f * static_cast<float>(me));
  const auto total = static_cast<std::size_t>(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}));
  std::vector<float> host(total), device(total, -1.0f);
  w.allgatherv(mine.data(), counts[me], host.data(), counts);
  dc->all_gatherv(mine.data(), device.data(), bytes, nullptr);
  CHECK(device == host);

  // The Ulysses exchange of a real plan: sequence shards to head shards.
  const auto spans = cp::ulysses_q_heads(4 * P, P);
  const auto layout = cp::assign(*build_mask({"causal", {}}, 96, 96), 96, P, cp::Balance::contiguous);
  const auto c = cp::ulysses_counts(spans, 8, 1, layout, 0, me, P);
  std::vector<std::size_t> send_bytes, recv_bytes;
  for (int r = 0; r < P; ++r) {
    send_bytes.push_back(static_cast<std::size_t>(c.seq[r]) * sizeof(float));
    recv_bytes.push_back(static_cast<std::size_t>(c.head[r]) * sizeof(float));
  }
  std::vector<float> send(
      static_cast<std::size_t>(std::accumulate(c.seq.begin(), c.seq.end(), std::int64_t{0})));
  std::iota(send.begin(), send.end(), 1000.0f * static_cast<float>(me));
  const auto got = static_cast<std::size_t>(std::accumulate(c.head.begin(), c.head.end(), std::int64_t{0}));
  std::vector<float> host_a2a(got), device_a2a(got, -1.0f);
  w.alltoallv(send.data(), c.seq, host_a2a.data(), c.head);
  dc->all_to_allv(send.data(), send_bytes, device_a2a.data(), recv_bytes, nullptr);
  CHECK(device_a2a == host_a2a);
  // Bytes to other ranks only, as the host path counts them.
  std::uint64_t expect = static_cast<std::uint64_t>(P - 1) * bytes[me];  // our block to every other rank
  for (int r = 0; r < P; ++r)
    if (r != me) expect += send_bytes[r];
  CHECK(dc->bytes_sent() == expect);
}
