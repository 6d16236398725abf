// The rows of an output folder in file order, one per case key: a row of a case already there replaces it in
// place.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/schema/case_key.hpp"
#include "harness/schema/result_row.hpp"

namespace attnbench {

class RowSet {
 public:
  RowSet() = default;
  explicit RowSet(const std::vector<ResultRow>& rows) {
    for (const auto& r : rows) add(r);
  }
  // Appends `row`, or replaces the row of the same case key (the later one wins);
  // returns true when it replaced one.
  bool add(const ResultRow& row) {
    const std::string key = case_key(row);
    if (auto it = index_.find(key); it != index_.end()) {
      rows_[it->second] = row;
      return true;
    }
    index_.emplace(key, rows_.size());
    rows_.push_back(row);
    return false;
  }
  const ResultRow* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &rows_[it->second];
  }
  const std::vector<ResultRow>& rows() const { return rows_; }
  std::size_t size() const { return rows_.size(); }

 private:
  std::vector<ResultRow> rows_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace attnbench
