// ALiBi slopes, the seeded relative-position table and the BiasSpec -> Bias builder.
#include "attnbench/bias.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

#include "attnbench/types.hpp"

namespace attnbench {

namespace {

std::vector<double> power_of_two_slopes(std::int64_t n) {
  std::vector<double> s;
  for (std::int64_t i = 1; i <= n; ++i) s.push_back(std::pow(2.0, -8.0 * static_cast<double>(i) / n));
  return s;
}

// splitmix64: a portable stream so the relpos table is identical on every platform.
std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::int64_t kMaxRelposDistance = std::int64_t{1} << 20;  // table of Hq·(2M+1) doubles

}  // namespace

std::vector<double> alibi_slopes(std::int64_t heads) {
  if (heads <= 0) return {};
  std::int64_t n = 1;
  while (n * 2 <= heads) n *= 2;
  std::vector<double> s = power_of_two_slopes(n);
  if (n == heads) return s;
  const std::vector<double> twice = power_of_two_slopes(2 * n);
  for (std::int64_t i = 0; static_cast<std::int64_t>(s.size()) < heads; i += 2)
    s.push_back(twice[static_cast<std::size_t>(i)]);
  return s;
}

std::shared_ptr<const Bias> Bias::alibi(std::int64_t heads_q, std::int64_t seqlen_q, std::int64_t seqlen_k) {
  auto b = std::make_shared<Bias>();
  b->kind_ = Kind::alibi;
  b->name_ = "alibi";
  b->heads_q_ = heads_q;
  b->offset_ = seqlen_k - seqlen_q;
  b->slopes_ = alibi_slopes(heads_q);
  return b;
}

std::shared_ptr<const Bias> Bias::relpos(std::int64_t heads_q, std::int64_t seqlen_q, std::int64_t seqlen_k,
                                         std::int64_t max_distance, std::uint64_t seed) {
  auto b = std::make_shared<Bias>();
  b->kind_ = Kind::relpos;
  b->name_ = "relpos";
  b->heads_q_ = heads_q;
  b->offset_ = seqlen_k - seqlen_q;
  b->max_distance_ = max_distance;
  b->params_ = {{"max_distance", std::to_string(max_distance)}, {"seed", std::to_string(seed)}};
  const std::int64_t width = 2 * max_distance + 1;
  b->table_.resize(static_cast<std::size_t>(heads_q * width));
  std::uint64_t state = seed ^ 0x72656C706F73ULL;  // "relpos": its own stream, apart from the inputs'
  for (auto& x : b->table_) x = static_cast<double>(mix(state) >> 11) * 0x1.0p-52 - 1.0;  // [-1, 1)
  return b;
}

std::string Bias::params_json() const {
  std::string s = "{";
  for (const auto& [k, v] : params_) s += fmt::format("{}\"{}\":{}", s.size() > 1 ? "," : "", k, v);
  return s + "}";
}

std::string Bias::label() const {
  return kind_ == Kind::alibi ? name_ : fmt::format("{}{{max_distance={}}}", name_, max_distance_);
}

const std::vector<std::string>& bias_names() {
  static const std::vector<std::string> names{"none", "alibi", "relpos"};
  return names;
}

std::string bias_spec_label(const BiasSpec& spec) {
  if (spec.params.empty()) return spec.name;
  std::string s = spec.name + "{";
  bool first = true;
  for (const auto& [k, v] : spec.params) {
    s += fmt::format("{}{}={}", first ? "" : ",", k, v);
    first = false;
  }
  return s + "}";
}

BiasPtr build_bias(const BiasSpec& spec, std::int64_t heads_q, std::int64_t seqlen_q, std::int64_t seqlen_k,
                   std::uint64_t seed) {
  const auto only = [&](const std::vector<std::string>& accepted) {
    for (const auto& [k, v] : spec.params)
      if (std::find(accepted.begin(), accepted.end(), k) == accepted.end())
        throw InputError(fmt::format(
            "bias '{}': unknown parameter '{}' (accepted: {})", spec.name, k,
            accepted.empty() ? std::string("none") : fmt::format("{}", fmt::join(accepted, ", "))));
  };
  if (spec.name == "none" || spec.name.empty()) {
    only({});
    return nullptr;
  }
  if (spec.name == "alibi") {
    only({});
    return Bias::alibi(heads_q, seqlen_q, seqlen_k);
  }
  if (spec.name == "relpos") {
    only({"max_distance"});
    auto it = spec.params.find("max_distance");
    if (it == spec.params.end())
      throw InputError(
          "bias 'relpos': parameter 'max_distance' is required (accepted: an integer 1 to 1048576)");
    std::int64_t m = 0;
    std::size_t used = 0;
    try {
      m = std::stoll(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it->second.size() || used == 0 || m < 1 || m > kMaxRelposDistance)
      throw InputError(
          fmt::format("bias 'relpos': max_distance '{}' is not accepted (accepted: an integer 1 to {})",
                      it->second, kMaxRelposDistance));
    return Bias::relpos(heads_q, seqlen_q, seqlen_k, m, seed);
  }
  throw InputError(fmt::format("unknown bias '{}' (accepted: {})", spec.name, fmt::join(bias_names(), ", ")));
}

}  // namespace attnbench
