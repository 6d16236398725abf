// The product of sweep axes (google/benchmark's ArgsProduct): one helper instead of nested loops.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace attnbench {

// Calls `visit` with the index of every axis for each point of the product of
// axes of the given sizes, the last axis varying fastest: the order of nested
// loops written in axis order. An axis of size 0 gives no points.
inline void for_each_point(const std::vector<std::size_t>& sizes,
                           const std::function<void(const std::vector<std::size_t>&)>& visit) {
  for (auto n : sizes)
    if (n == 0) return;
  std::vector<std::size_t> at(sizes.size(), 0);
  while (true) {
    visit(at);
    std::size_t axis = sizes.size();
    while (axis > 0 && ++at[axis - 1] == sizes[axis - 1]) at[--axis] = 0;  // odometer carry
    if (axis == 0) return;
  }
}

// Every assignment of one value per named axis, in the same order (first axis slowest).
using NamedAxes = std::vector<std::pair<std::string, std::vector<std::string>>>;
inline std::vector<std::map<std::string, std::string>> assignments(const NamedAxes& axes) {
  std::vector<std::size_t> sizes;
  for (const auto& [name, values] : axes) sizes.push_back(values.size());
  std::vector<std::map<std::string, std::string>> out;
  for_each_point(sizes, [&](const std::vector<std::size_t>& at) {
    std::map<std::string, std::string> a;
    for (std::size_t i = 0; i < axes.size(); ++i) a[axes[i].first] = axes[i].second[at[i]];
    out.push_back(std::move(a));
  });
  return out;
}

}  // namespace attnbench
