// A plugin that uses the built-ins' static registration instead of ATTNBENCH_PLUGIN: refused by name.
#include <attnbench/plugin.hpp>

#include "test_backend.hpp"

namespace {
class StaticBackend final : public attnbench::Backend {
 public:
  attnbench::BackendInfo info() const override { return NamedTestBackend("test.static").info(); }
  std::unique_ptr<attnbench::Execution> prepare(const attnbench::Problem& p, const attnbench::Inputs& in,
                                                attnbench::Resources& r) override {
    return NamedTestBackend("test.static").prepare(p, in, r);
  }
};
}  // namespace

ATTNBENCH_REGISTER_BACKEND(StaticBackend);

ATTNBENCH_PLUGIN(reg) {}
