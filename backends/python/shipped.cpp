// Registers the shipped Python backends (loaded on first use) and the `python:FILE` scenario resolver.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "attnbench/registry.hpp"
#include "backends/python/interpreter.hpp"
#include "backends/python/python_backend.hpp"

namespace attnbench::python {

namespace {

namespace fs = std::filesystem;

struct Shipped {
  const char* name;
  const char* file;
  Device device;   // what `list backends` shows before the module is loaded
  bool half_only;  // bf16/fp16 only (FlashAttention); else fp32 too
  const char* description;
};

// The modules in backends/python/modules/. Each needs its package only when
// used: a missing package makes its rows `unsupported`, never an error.
constexpr Shipped kShipped[] = {
    {"numpy.reference", "numpy_reference.py", Device::cpu, false,
     "NumPy float64 attention through the Python bridge (tests the bridge; needs numpy)"},
    {"torch.sdpa_math", "torch_sdpa_math.py", Device::cuda, false,
     "PyTorch SDPA, math backend forced (needs torch; runs on CUDA or CPU)"},
    {"torch.sdpa_flash", "torch_sdpa_flash.py", Device::cuda, false,
     "PyTorch SDPA, FlashAttention backend forced: full and causal masks (needs torch)"},
    {"torch.sdpa_efficient", "torch_sdpa_efficient.py", Device::cuda, false,
     "PyTorch SDPA, memory-efficient backend forced: any mask as attn_mask (needs torch, CUDA)"},
    {"torch.sdpa_cudnn", "torch_sdpa_cudnn.py", Device::cuda, false,
     "PyTorch SDPA, cuDNN backend forced: full and causal masks (needs torch, CUDA)"},
    {"torch.flex", "torch_flex.py", Device::cuda, false,
     "PyTorch FlexAttention with a BlockMask from the mask library, compiled in prepare (needs torch >= "
     "2.5)"},
    {"flash_attn.fa2", "flash_attn_fa2.py", Device::cuda, true,
     "FlashAttention-2 (flash_attn package): full, causal, windows, documents via varlen"},
    {"flash_attn.fa3", "flash_attn_fa3.py", Device::cuda, true,
     "FlashAttention-3 (flash_attn_interface, Hopper): full, causal, windows, documents via varlen"},
    {"flash_attn.fa4", "flash_attn_fa4.py", Device::cuda, true,
     "FlashAttention-4 (flash_attn.cute of flash-attn-4, CuTe DSL; Hopper/Blackwell): as fa3"},
    {"flashinfer.block_sparse", "flashinfer_block_sparse.py", Device::cuda, true,
     "FlashInfer BlockSparseAttentionWrapper: any mask as BSR blocks of the block map; forward only"},
    {"flashinfer.decode", "flashinfer_decode.py", Device::cuda, true,
     "FlashInfer batch decode over a paged K/V cache (seqlen_q = 1); forward only"},
};

// Canonical file -> registry name, so a file named twice (or a shipped one named
// by path) is one backend.
std::map<std::string, std::string>& known_files() {
  static std::map<std::string, std::string> files;
  return files;
}
std::mutex& files_mutex() {
  static std::mutex m;
  return m;
}

std::string resolve_python_file(const std::string& argument, const std::string& base_dir) {
  if (argument.empty()) throw InputError("python: needs a file, e.g. python:path/to/my_attn.py");
  fs::path candidate = argument;
  if (!fs::exists(candidate) && candidate.is_relative() && !base_dir.empty())
    candidate = fs::path(base_dir) / argument;
  if (!fs::is_regular_file(candidate))
    throw InputError(fmt::format("python:{}: no such file (looked in the current folder{})", argument,
                                 base_dir.empty() ? "" : " and in " + base_dir));
  const std::string canonical = fs::canonical(candidate).string();
  std::lock_guard lock(files_mutex());
  if (auto it = known_files().find(canonical); it != known_files().end()) return it->second;
  auto module = load_module(canonical);
  const std::string name = module->info.name;
  Registry::instance().add_backend(std::make_shared<PythonBackend>(std::move(module)), canonical);
  known_files()[canonical] = name;
  return name;
}

const bool registered = [] {
  auto& reg = Registry::instance();
  for (const auto& s : kShipped) {
    BackendInfo stub;
    stub.name = s.name;
    stub.device = s.device;
    stub.description = s.description;
    stub.dtypes = s.half_only ? std::vector<DType>{DType::bf16, DType::fp16}
                              : std::vector<DType>{DType::fp32, DType::bf16, DType::fp16};
    const fs::path file = fs::path(modules_dir()) / s.file;
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(file, ec);
    const std::string path = ec ? file.string() : canonical.string();
    reg.add_backend(std::make_shared<PythonBackend>(stub, path), "built-in (Python bridge)");
    known_files()[path] = s.name;
  }
  reg.add_backend_resolver("python", resolve_python_file);
  return true;
}();

}  // namespace

}  // namespace attnbench::python
