// A backend that only has a name: the bad test plugins need something to register.
#pragma once

#include <attnbench/backend.hpp>

#include <stdexcept>
#include <string>

class NamedTestBackend final : public attnbench::Backend {
 public:
  explicit NamedTestBackend(std::string name) : name_(std::move(name)) {}
  attnbench::BackendInfo info() const override {
    attnbench::BackendInfo i;
    i.name = name_;
    i.dtypes = {attnbench::DType::fp32};
    return i;
  }
  std::unique_ptr<attnbench::Execution> prepare(const attnbench::Problem&, const attnbench::Inputs&,
                                                attnbench::Resources&) override {
    throw std::logic_error("test backend runs nothing");
  }

 private:
  std::string name_;
};
