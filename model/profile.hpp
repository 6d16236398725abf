// Kernel profiles: time = a + b * work per (backend, head_dim, dtype, pass), fitted from measured rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/machine.hpp"
#include "harness/schema/case_key.hpp"

namespace attnbench::model {

// Least-squares fits of time_ms against work (area x batch x heads_q) over the
// single-device `ok` rows of each (backend, head_dim, dtype, pass); a group of
// one row gets a = 0. Rows with other strategies are ignored.
std::vector<ProfileEntry> fit_profile(const std::vector<ResultRow>&);

// The entry for a case: exact backend first, then "*"; nullopt when none matches.
std::optional<ProfileEntry> find_profile(const std::vector<ProfileEntry>&, const std::string& backend,
                                         std::int64_t head_dim, const std::string& dtype,
                                         const std::string& pass);

// FLOPs per unit of work (DESIGN.md FLOPs): fwd 4*D, bwd 10*D, fwd_bwd 14*D.
double flops_per_work(std::int64_t head_dim, const std::string& pass);

}  // namespace attnbench::model
