// The plugin loader in-process: all-or-nothing registration and ATTNBENCH_PLUGIN_PATH expansion.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "attnbench/plugin.hpp"
#include "harness/plugins.hpp"

namespace fs = std::filesystem;
using namespace attnbench;

namespace {

class Named final : public Backend {
 public:
  explicit Named(std::string n) : name_(std::move(n)) {}
  BackendInfo info() const override {
    BackendInfo i;
    i.name = name_;
    i.dtypes = {DType::fp32};
    return i;
  }
  std::unique_ptr<Execution> prepare(const Problem&, const Inputs&, Resources&) override {
    throw std::logic_error("not runnable");
  }

 private:
  std::string name_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

fs::path scratch_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("attnbench_test_plugin_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

}  // namespace

TEST_CASE("a plugin whose second backend clashes with a built-in registers nothing") {
  PluginRegistrar reg;
  reg.add_backend(std::make_shared<Named>("test.loader.fresh"));
  reg.add_backend(std::make_shared<Named>("cpu.reference"));
  const std::string err = error_of([&] { register_plugin_entries(reg, "/p/libclash.so"); });
  CHECK(err == "plugin /p/libclash.so: backend name 'cpu.reference' is already registered by built-in");
  CHECK(Registry::instance().find_backend("test.loader.fresh") == nullptr);
}

TEST_CASE("a plugin registering the same name twice is refused") {
  PluginRegistrar reg;
  reg.add_backend(std::make_shared<Named>("test.loader.twice"));
  reg.add_backend(std::make_shared<Named>("test.loader.twice"));
  CHECK(error_of([&] { register_plugin_entries(reg, "/p/libtwice.so"); }) ==
        "plugin /p/libtwice.so: backend name 'test.loader.twice' is registered twice");
  CHECK(Registry::instance().find_backend("test.loader.twice") == nullptr);
}

TEST_CASE("registered plugin backends carry the plugin file as origin") {
  PluginRegistrar reg;
  reg.add_backend(std::make_shared<Named>("test.loader.origin"));
  register_plugin_entries(reg, "/p/liborigin.so");
  const auto& entries = Registry::instance().backends();
  auto it = std::find_if(entries.begin(), entries.end(),
                         [](const auto& e) { return e.name == "test.loader.origin"; });
  REQUIRE(it != entries.end());
  CHECK(it->origin == "/p/liborigin.so");
  // A second plugin cannot take the name either.
  CHECK(error_of([&] { register_plugin_entries(reg, "/q/libother.so"); }) ==
        "plugin /q/libother.so: backend name 'test.loader.origin' is already registered by /p/liborigin.so");
}

TEST_CASE("ATTNBENCH_PLUGIN_PATH expands folders to their sorted .so files and keeps files as given") {
  const fs::path d = scratch_dir("expand");
  touch(d / "libb.so");
  touch(d / "liba.so");
  touch(d / "notes.txt");
  touch(d / "libc.so.1");  // versioned names are not picked from folders
  const fs::path single = d / "notes.txt";
  const auto files =
      expand_plugin_path(":" + d.string() + "::" + single.string() + ":", "ATTNBENCH_PLUGIN_PATH");
  REQUIRE(files.size() == 3);
  CHECK(files[0] == (d / "liba.so").string());
  CHECK(files[1] == (d / "libb.so").string());
  CHECK(files[2] == single.string());
  fs::remove_all(d);
}

TEST_CASE("an ATTNBENCH_PLUGIN_PATH entry that does not exist is an input error naming it") {
  CHECK(error_of([] { expand_plugin_path("/no/such/place", "ATTNBENCH_PLUGIN_PATH"); }) ==
        "ATTNBENCH_PLUGIN_PATH: '/no/such/place' is neither a plugin file nor a folder");
}

TEST_CASE("loading a folder or a missing file names it") {
  const fs::path d = scratch_dir("load");
  CHECK(error_of([&] { load_plugin(d.string()); }) ==
        "plugin " + d.string() + ": is a folder, expected a shared library (.so)");
  CHECK(error_of([&] { load_plugin((d / "nope.so").string()); }) ==
        "plugin " + (d / "nope.so").string() + ": file not found");
  touch(d / "text.so");
  CHECK_THAT(error_of([&] { load_plugin((d / "text.so").string()); }),
             Catch::StartsWith("plugin " + (d / "text.so").string() + ": not a loadable plugin library: "));
  fs::remove_all(d);
}
