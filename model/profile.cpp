// Least-squares kernel profiles from results rows, and their look-up.
#include "model/profile.hpp"

#include <map>
#include <tuple>

namespace attnbench::model {

std::vector<ProfileEntry> fit_profile(const std::vector<ResultRow>& rows) {
  using Key = std::tuple<std::string, std::int64_t, std::string, std::string>;
  std::map<Key, std::vector<std::pair<double, double>>> groups;
  for (const auto& r : rows) {
    if (r.status != Status::ok || r.strategy != "none" || !(r.time_ms > 0) || r.area <= 0) continue;
    const double work = static_cast<double>(r.area) * static_cast<double>(r.batch * r.heads_q) / 1e9;
    groups[{r.backend, r.head_dim, r.dtype, r.pass}].push_back({work, r.time_ms});
  }
  std::vector<ProfileEntry> out;
  for (const auto& [k, pts] : groups) {
    ProfileEntry e{
        std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), 0, 0, static_cast<int>(pts.size())};
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (auto [x, y] : pts) sx += x, sy += y, sxx += x * x, sxy += x * y;
    const double n = static_cast<double>(pts.size()), det = n * sxx - sx * sx;
    if (pts.size() >= 2 && det > 0) {
      e.b_ms_per_gwork = (n * sxy - sx * sy) / det;
      e.a_ms = (sy - e.b_ms_per_gwork * sx) / n;
    }
    // A negative intercept or slope (noise, one point) falls back to a line through the origin.
    if (!(e.b_ms_per_gwork > 0) || e.a_ms < 0) {
      e.a_ms = 0;
      e.b_ms_per_gwork = sxx > 0 ? sxy / sxx : 0;
    }
    if (e.b_ms_per_gwork > 0) out.push_back(e);
  }
  return out;
}

std::optional<ProfileEntry> find_profile(const std::vector<ProfileEntry>& p, const std::string& backend,
                                         std::int64_t head_dim, const std::string& dtype,
                                         const std::string& pass) {
  for (const char* want : {"exact", "any"})
    for (const auto& e : p)
      if ((std::string(want) == "exact" ? e.backend == backend : e.backend == "*") &&
          e.head_dim == head_dim && e.dtype == dtype && e.pass == pass)
        return e;
  return std::nullopt;
}

double flops_per_work(std::int64_t d, const std::string& pass) {
  const double f = 4.0 * static_cast<double>(d);
  return pass == "fwd" ? f : pass == "bwd" ? 2.5 * f : 3.5 * f;
}

}  // namespace attnbench::model
