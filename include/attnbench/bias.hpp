// Additive score bias (DESIGN.md "Additive bias"): a per-query-head [Sq, Sk] term added to the scaled
// scores before softmax; ALiBi slopes or a seeded relative-position table.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace attnbench {

// A bias as a user writes it (scenario field `bias`): name and raw parameter values.
struct BiasSpec {
  std::string name;  // "none", "alibi", "relpos"
  std::map<std::string, std::string> params;
};

class Bias {
 public:
  enum class Kind : std::uint8_t { alibi, relpos };

  // ALiBi (Press et al.): bias(h, q, k) = -slope_h * (q' - k), q' = q + Sk - Sq (bottom-right aligned,
  // as the masks are when Sq != Sk).
  static std::shared_ptr<const Bias> alibi(std::int64_t heads_q, std::int64_t seqlen_q,
                                           std::int64_t seqlen_k);
  // Relative position: a per-head table over the clipped distance k - q' in [-max_distance,
  // max_distance], values uniform in [-1, 1] drawn from `seed` (a stand-in for a learned table).
  static std::shared_ptr<const Bias> relpos(std::int64_t heads_q, std::int64_t seqlen_q,
                                            std::int64_t seqlen_k, std::int64_t max_distance,
                                            std::uint64_t seed);

  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  // Resolved parameters as one compact JSON object ({"max_distance":128,"seed":0}), for the row and dumps.
  std::string params_json() const;
  // "alibi", "relpos{max_distance=128}": the `bias` column.
  std::string label() const;

  // The term added to the scaled score of query head h, query q, key k (global indices), in float64.
  double value(std::int64_t h, std::int64_t q, std::int64_t k) const {
    const std::int64_t rel = k - (q + offset_);  // <= 0 for keys at or before the (aligned) query
    // ALiBi: -slope·|q' - k| (the symmetric form under bidirectional masks; -slope·(q' - k) under causal).
    if (kind_ == Kind::alibi)
      return -slopes_[static_cast<std::size_t>(h)] * static_cast<double>(rel < 0 ? -rel : rel);
    const std::int64_t c = std::clamp(rel, -max_distance_, max_distance_);
    return table_[static_cast<std::size_t>(h * (2 * max_distance_ + 1) + c + max_distance_)];
  }

  // Kernel-side views: per-head slopes (alibi) or the [Hq, 2·max_distance+1] table (relpos).
  const std::vector<double>& slopes() const { return slopes_; }
  const std::vector<double>& table() const { return table_; }
  std::int64_t max_distance() const { return max_distance_; }
  std::int64_t offset() const { return offset_; }  // Sk - Sq
  std::int64_t heads_q() const { return heads_q_; }

 private:
  Kind kind_ = Kind::alibi;
  std::string name_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<double> slopes_, table_;
  std::int64_t max_distance_ = 0, offset_ = 0, heads_q_ = 0;
};

using BiasPtr = std::shared_ptr<const Bias>;

// ALiBi's slopes for H heads: 2^(-8(h+1)/H) when H is a power of two; otherwise those of the largest
// power of two n < H followed by every other slope of 2n (the reference implementation's interpolation).
std::vector<double> alibi_slopes(std::int64_t heads);

// Names accepted in the scenario's `bias` field.
const std::vector<std::string>& bias_names();
// Builds the bias of a spec for one case ("none": null). Unknown names or parameters throw InputError
// naming the accepted ones.
BiasPtr build_bias(const BiasSpec&, std::int64_t heads_q, std::int64_t seqlen_q, std::int64_t seqlen_k,
                   std::uint64_t seed);
// The spec's label before it is built ("none", "alibi", "relpos{max_distance=64}").
std::string bias_spec_label(const BiasSpec&);

}  // namespace attnbench
