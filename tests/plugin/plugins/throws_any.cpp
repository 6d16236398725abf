// A test plugin whose backends throw types that are not std::exception (in prepare, in run): error rows,
// never terminate.
#include <attnbench/plugin.hpp>

namespace {

struct PluginOwnError {  // a plugin's own exception type, not derived from std::exception
  const char* what = "plugin's own error";
};

class ThrowingBackend final : public attnbench::Backend {
 public:
  explicit ThrowingBackend(bool in_prepare) : in_prepare_(in_prepare) {}
  attnbench::BackendInfo info() const override {
    attnbench::BackendInfo i;
    i.name = in_prepare_ ? "test.throws_int" : "test.throws_struct";
    i.description =
        in_prepare_ ? "test plugin: throw 42 in prepare()" : "test plugin: throws a struct in run()";
    i.dtypes = {attnbench::DType::fp32};
    return i;
  }
  std::unique_ptr<attnbench::Execution> prepare(const attnbench::Problem&, const attnbench::Inputs&,
                                                attnbench::Resources&) override {
    if (in_prepare_) throw 42;
    struct Exec final : attnbench::Execution {
      void run() override { throw PluginOwnError{}; }
      void fetch_outputs(attnbench::Outputs&) override {}
    };
    return std::make_unique<Exec>();
  }

 private:
  bool in_prepare_;
};

}  // namespace

ATTNBENCH_PLUGIN(reg) {
  reg.add_backend(std::make_shared<ThrowingBackend>(true));
  reg.add_backend(std::make_shared<ThrowingBackend>(false));
}
