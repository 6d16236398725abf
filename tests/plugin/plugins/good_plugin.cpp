// A well-formed test plugin: test.declines registers fine and declines every case with a reason.
#include <attnbench/plugin.hpp>

#include <stdexcept>

namespace {

class DecliningBackend final : public attnbench::Backend {
 public:
  attnbench::BackendInfo info() const override {
    attnbench::BackendInfo i;
    i.name = "test.declines";
    i.description = "test plugin: declines every case";
    i.dtypes = {attnbench::DType::fp32};
    return i;
  }
  attnbench::Support supports(const attnbench::Problem& p) const override {
    if (auto s = check_info(info(), p); !s.ok) return s;
    return attnbench::Support::no("test plugin declines mask " + p.mask->name());
  }
  std::unique_ptr<attnbench::Execution> prepare(const attnbench::Problem&, const attnbench::Inputs&,
                                                attnbench::Resources&) override {
    throw std::logic_error("prepare() called on a declined case");
  }
};

}  // namespace

ATTNBENCH_PLUGIN(reg) { reg.add_backend(std::make_shared<DecliningBackend>()); }
