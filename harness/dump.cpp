// Writes the per-case dump folder: parameters as JSON, tensors as NumPy arrays.
#include "harness/dump.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "harness/npy.hpp"
#include "reports/durable_file.hpp"

namespace attnbench {

std::string case_json(const Case& c) {
  const Problem& p = c.problem;
  nlohmann::ordered_json j;
  j["id"] = c.id();
  j["backend"] = c.backend;
  j["strategy"] = p.strategy;
  j["world_size"] = p.world_size;
  j["mask"] = p.mask->name();
  j["mask_params"] = nlohmann::ordered_json::parse(p.mask->params_json());
  j["seed"] = p.seed;
  j["batch"] = p.shape.batch;
  j["heads_q"] = p.shape.heads_q;
  j["heads_kv"] = p.shape.heads_kv;
  j["seqlen_q"] = p.shape.seqlen_q;
  j["seqlen_k"] = p.shape.seqlen_k;
  j["head_dim"] = p.shape.head_dim;
  j["heads_k"] = p.shape.heads_k();
  j["heads_v"] = p.shape.value_heads();
  j["head_dim_v"] = p.shape.value_dim();
  j["dtype"] = std::string(to_string(p.dtype));
  j["pass"] = std::string(to_string(p.pass));
  j["softmax_scale"] = p.softmax_scale;
  j["area"] = p.mask->area();
  j["layout"] =
      "q k v o do dq dk dv: [B, S, H, D] float32 (k, dk: Hk, D; v, dv: Hv, Dv; o, do: Hq, Dv); lse: [B, Hq, "
      "Sq] float32 (natural log); mask: [Sq, Sk] "
      "uint8";
  // The additive bias as a spec a reader can recompute: name, parameters, definition and (ALiBi) slopes.
  if (p.bias) {
    nlohmann::ordered_json b;
    b["name"] = p.bias->name();
    b["params"] = nlohmann::ordered_json::parse(p.bias->params_json());
    b["definition"] = p.bias->kind() == Bias::Kind::alibi
                          ? "slopes[h] * (k - q - (Sk - Sq)), added to the scaled scores"
                          : "table[h][clamp(k - q - (Sk - Sq), -max_distance, max_distance) + max_distance], "
                            "added to the scaled scores; table seeded by params.seed";
    if (p.bias->kind() == Bias::Kind::alibi) b["slopes"] = p.bias->slopes();
    j["bias"] = std::move(b);
  } else {
    j["bias"] = nullptr;
  }
  nlohmann::ordered_json opts = nlohmann::ordered_json::object();
  for (const auto& [k, v] : p.options) opts[k] = v;
  j["options"] = opts;
  // The MQAR probe's generator (pairs, vocab, seed): enough to rebuild q, k, v (harness/mqar.hpp).
  if (c.inputs.mqar()) j["inputs"] = nlohmann::ordered_json::parse(c.inputs.json());
  return j.dump(2);
}

void write_case_dump(const std::string& dir, const Case& c, const Inputs& in, const Outputs& out) {
  const auto& s = c.problem.shape;
  const std::filesystem::path folder = std::filesystem::path(dir) / c.id();
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw OutputError(folder.string() + ": cannot create the dump folder: " + ec.message());
  write_file_checked((folder / "case.json").string(), {case_json(c), "\n"});
  auto f32 = [&](const char* name, const std::vector<float>& t, std::vector<std::int64_t> shape) {
    if (t.empty()) return;
    write_npy((folder / (std::string(name) + ".npy")).string(), "<f4", shape, t.data(),
              t.size() * sizeof(float));
  };
  const std::vector<std::int64_t> qshape{s.batch, s.seqlen_q, s.heads_q, s.head_dim};
  const std::vector<std::int64_t> kshape{s.batch, s.seqlen_k, s.heads_k(), s.head_dim};
  const std::vector<std::int64_t> vshape{s.batch, s.seqlen_k, s.value_heads(), s.value_dim()};
  const std::vector<std::int64_t> oshape{s.batch, s.seqlen_q, s.heads_q, s.value_dim()};
  f32("q", in.q, qshape);
  f32("k", in.k, kshape);
  f32("v", in.v, vshape);
  f32("o", out.o, oshape);
  f32("lse", out.lse, {s.batch, s.heads_q, s.seqlen_q});
  if (pass_has_backward(c.problem.pass)) {
    f32("do", in.dout, oshape);
    f32("dq", out.dq, qshape);
    f32("dk", out.dk, kshape);
    f32("dv", out.dv, vshape);
  }
  const auto mask = c.problem.mask->dense();
  if (c.problem.uniform_mask()) {
    write_npy((folder / "mask.npy").string(), "|u1", {s.seqlen_q, s.seqlen_k}, mask.data(), mask.size());
  } else {  // masks per (b, h), e.g. a dynamic mask's selection: [B, Hq, Sq, Sk], and the base beside it
    std::vector<std::uint8_t> all;
    for (std::int64_t b = 0; b < s.batch; ++b)
      for (std::int64_t h = 0; h < s.heads_q; ++h) {
        const auto one = c.problem.mask_for(b, h).dense();
        all.insert(all.end(), one.begin(), one.end());
      }
    write_npy((folder / "mask.npy").string(), "|u1", {s.batch, s.heads_q, s.seqlen_q, s.seqlen_k}, all.data(),
              all.size());
    write_npy((folder / "base_mask.npy").string(), "|u1", {s.seqlen_q, s.seqlen_k}, mask.data(), mask.size());
  }
}

}  // namespace attnbench
