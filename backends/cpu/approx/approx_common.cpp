// The shared pieces of the approximate CPU backends (see approx_common.hpp).
#include "backends/cpu/approx/approx_common.hpp"
#include "masks/rng.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/host_tensors.hpp"

namespace attnbench::cpu::approx {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
}

void merge_into(Partial& a, const Partial& b) {
  if (b.lse == kNegInf) return;
  if (a.lse == kNegInf) {
    a = b;
    return;
  }
  const double hi = std::max(a.lse, b.lse), lo = std::min(a.lse, b.lse);
  const double lse = hi + std::log1p(std::exp(lo - hi));
  const double wa = std::exp(a.lse - lse), wb = std::exp(b.lse - lse);
  for (std::size_t c = 0; c < a.o.size(); ++c) a.o[c] = wa * a.o[c] + wb * b.o[c];
  a.lse = lse;
}

Partial attend(const Head& h, i64 qi, const std::vector<i64>& keys, double log_weight) {
  Partial r;
  r.o.assign(static_cast<std::size_t>(h.dv), 0.0);
  if (keys.empty()) return r;
  std::vector<double> s(keys.size());
  const float* q = h.qrow(qi);
  double mx = kNegInf;
  for (std::size_t j = 0; j < keys.size(); ++j) {
    const float* k = h.krow(keys[j]);
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (i64 c = 0; c < h.d; ++c) dot += q[c] * k[c];
    s[j] = h.scale * dot;
    mx = std::max(mx, s[j]);
  }
  double sum = 0.0;
  for (std::size_t j = 0; j < keys.size(); ++j) {
    const double w = std::exp(s[j] - mx);
    sum += w;
    const float* v = h.vrow(keys[j]);
    for (i64 c = 0; c < h.dv; ++c) r.o[c] += w * v[c];
  }
  for (auto& x : r.o) x /= sum;
  r.lse = log_weight + mx + std::log(sum);
  return r;
}

i64 int_option(const Problem& p, const std::string& backend, const std::string& key, i64 fallback, i64 lo,
               i64 hi) {
  const auto it = p.options.find(key);
  if (it == p.options.end()) return fallback;
  const std::string& text = it->second;
  std::size_t used = 0;
  long long v = 0;
  bool ok = !text.empty();
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok || used != text.size() || v < lo || v > hi)
    throw InputError(fmt::format("{}: options.{}: '{}' is not accepted (accepted: an integer from {} to {})",
                                 backend, key, text, lo, hi));
  return v;
}

BackendInfo approx_info(std::string name, std::string description, std::vector<std::string> parameters) {
  BackendInfo i;
  i.name = std::move(name);
  i.device = Device::cpu;
  i.description = std::move(description);
  i.dtypes = {DType::fp32};
  i.masks = {"full", "causal"};
  i.passes = {Pass::fwd};
  i.separate_kv_heads = true;
  i.head_dim_v = true;
  i.tolerance_fwd = kSanityTolerance;
  i.approximate = true;
  i.parameters = std::move(parameters);
  return i;
}

Support approx_supports(const BackendInfo& info, const Problem& p, const std::function<bool()>& exact) {
  bool is_exact = false;
  try {
    is_exact = exact();
  } catch (const InputError& e) {
    return Support::invalid(e.what());
  }
  if (p.mask && p.mask->name() != "full" && p.mask->name() != "causal")
    return Support::no(fmt::format(
        "{}: base mask {} not supported: the approximation is defined here for the base masks full and "
        "causal only",
        info.name, p.mask->name()));
  if (p.pass != Pass::fwd)
    return Support::no(
        fmt::format("{}: pass {} not supported: forward only (the approximation's backward is not built)",
                    info.name, to_string(p.pass)));
  Support s = check_info(info, p);
  if (s.ok && is_exact) s.tolerance_fwd = kExactTolerance;
  return s;
}

namespace {

// Bytes charged to the budget for buffers allocated inside run() (per-thread scratch).
class Charge {
 public:
  Charge() = default;
  Charge(MemoryTracker& t, std::size_t bytes) : t_(&t), bytes_(bytes) { t.reserve(bytes); }
  Charge(const Charge&) = delete;
  Charge& operator=(Charge&& o) noexcept {
    std::swap(t_, o.t_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~Charge() {
    if (t_ != nullptr) t_->release(bytes_);
  }

 private:
  MemoryTracker* t_ = nullptr;
  std::size_t bytes_ = 0;
};

class ApproxExecution final : public Execution {
 public:
  ApproxExecution(const Problem& p, const Inputs& in, Resources& r, HeadAlgorithm algo, std::size_t scratch)
      : p_(p), in_(in), algo_(std::move(algo)), threads_(r.threads > 0 ? r.threads : omp_get_max_threads()) {
    check_input_sizes(p, in, "approximate backend");
    allocate_outputs(p, *r.host, o_, lse_, dq_, dk_, dv_);
    // Each thread gathers one head at a time (q, k, v as float; o and the LSE in double) and runs the
    // algorithm's own buffers; every element is charged at 8 bytes, an upper bound.
    const auto& s = p.shape;
    const std::size_t head = static_cast<std::size_t>(s.seqlen_q * (s.head_dim + 2 * s.value_dim()) +
                                                      s.seqlen_k * (s.head_dim + s.value_dim())) *
                             sizeof(double);
    charge_ = Charge(*r.host, static_cast<std::size_t>(threads_) * (head + scratch));
  }

  void run() override {
    const auto& s = p_.shape;
    const i64 B = s.batch, Hq = s.heads_q, Hk = s.heads_kv, Hv = s.value_heads(), Sq = s.seqlen_q,
              Sk = s.seqlen_k, D = s.head_dim, Dv = s.value_dim(), group = s.group(), group_v = s.group_v();
    const bool causal = p_.mask && p_.mask->name() == "causal";
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
    for (i64 bh = 0; bh < B * Hq; ++bh) {
      const i64 b = bh / Hq, h = bh % Hq;
      Head hd;
      hd.sq = Sq, hd.sk = Sk, hd.d = D, hd.dv = Dv, hd.causal = causal, hd.scale = p_.softmax_scale;
      hd.seed = mix_seed(mix_seed(p_.seed, static_cast<std::uint64_t>(b)), static_cast<std::uint64_t>(h));
      hd.q.resize(static_cast<std::size_t>(Sq * D));
      hd.k.resize(static_cast<std::size_t>(Sk * D));
      hd.v.resize(static_cast<std::size_t>(Sk * Dv));
      for (i64 i = 0; i < Sq; ++i)
        std::copy_n(in_.q.data() + ((b * Sq + i) * Hq + h) * D, D, hd.q.data() + i * D);
      for (i64 j = 0; j < Sk; ++j) {
        std::copy_n(in_.k.data() + ((b * Sk + j) * Hk + h / group) * D, D, hd.k.data() + j * D);
        std::copy_n(in_.v.data() + ((b * Sk + j) * Hv + h / group_v) * Dv, Dv, hd.v.data() + j * Dv);
      }
      std::vector<double> o(static_cast<std::size_t>(Sq * Dv)), lse(static_cast<std::size_t>(Sq));
      algo_(hd, o.data(), lse.data());
      for (i64 i = 0; i < Sq; ++i) {
        float* dst = o_.data() + ((b * Sq + i) * Hq + h) * Dv;
        for (i64 c = 0; c < Dv; ++c) dst[c] = static_cast<float>(o[i * Dv + c]);
        lse_.data()[(b * Hq + h) * Sq + i] = static_cast<float>(lse[i]);
      }
    }
  }

  void fetch_outputs(Outputs& out) override { copy_host_outputs(p_.pass, o_, lse_, dq_, dk_, dv_, out); }

 private:
  Problem p_;
  const Inputs& in_;
  HeadAlgorithm algo_;
  int threads_;
  HostBuffer<float> o_, lse_, dq_, dk_, dv_;
  Charge charge_;
};

}  // namespace

std::unique_ptr<Execution> make_execution(const Problem& p, const Inputs& in, Resources& r,
                                          HeadAlgorithm algo, std::size_t scratch_bytes_per_thread) {
  return std::make_unique<ApproxExecution>(p, in, r, std::move(algo), scratch_bytes_per_thread);
}

}  // namespace attnbench::cpu::approx
