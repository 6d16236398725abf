// The `bytes` convention (see traffic.hpp): what an ideal kernel reads and writes once.
#include "harness/traffic.hpp"

#include <algorithm>
#include <unordered_map>

#include "masks/visible_keys.hpp"

namespace attnbench {

namespace {

// Keys summed over (batch, kv head) that some query head of the kv head may see, for `heads` kv heads
// (key or value heads) each shared by Hq/heads query heads. Under per-(b, h) masks a kv head is read
// at the keys of the query head that sees the most (an ideal kernel reads the union; the maximum is
// a lower bound that is exact when the group shares its mask, as per-head groups do).
double visible_keys_summed(const Problem& p, std::int64_t heads) {
  const auto& s = p.shape;
  if (!p.mask) return 0.0;
  if (p.uniform_mask())
    return static_cast<double>(masks::visible_key_count(*p.mask)) * double(s.batch) * double(heads);
  std::unordered_map<const Mask*, std::int64_t> memo;
  auto visible = [&](const Mask& m) {
    auto [it, added] = memo.try_emplace(&m, 0);
    if (added) it->second = masks::visible_key_count(m);
    return it->second;
  };
  const std::int64_t group = s.heads_q / heads;
  double sum = 0.0;
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t hk = 0; hk < heads; ++hk) {
      std::int64_t most = 0;
      for (std::int64_t h = hk * group; h < (hk + 1) * group; ++h)
        most = std::max(most, visible(p.mask_for(b, h)));
      sum += static_cast<double>(most);
    }
  return sum;
}

}  // namespace

double pass_bytes(const Problem& p) {
  const auto& s = p.shape;
  const double q = double(s.batch) * double(s.seqlen_q) * double(s.heads_q) * double(s.head_dim);
  const double o = double(s.batch) * double(s.seqlen_q) * double(s.heads_q) * double(s.value_dim());
  const double k = visible_keys_summed(p, s.heads_k()) * double(s.head_dim);
  const double v = visible_keys_summed(p, s.value_heads()) * double(s.value_dim());
  const double lse = double(s.batch) * double(s.heads_q) * double(s.seqlen_q);
  double elements = q + k + v + o + lse;                     // read Q, K, V; write O, LSE
  if (pass_has_backward(p.pass)) elements += o + q + k + v;  // dO, dQ, dK, dV
  return elements * static_cast<double>(dtype_size(p.dtype));
}

}  // namespace attnbench
