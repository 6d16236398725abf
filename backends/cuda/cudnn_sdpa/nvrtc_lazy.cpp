// Lazy NVRTC for the cuDNN frontend: its experimental sm100 RMSNorm engine (never used by cudnn.sdpa)
// references NVRTC, and linking libnvrtc (~100 MB, not on every GPU machine) just for that would make
// the binary fail to start without it. These definitions load libnvrtc on first call instead.
#include <dlfcn.h>
#include <nvrtc.h>

#include <mutex>

namespace {

void* nvrtc_symbol(const char* name) {
  static std::once_flag once;
  static void* handle = nullptr;
  std::call_once(once, [] {
    for (const char* lib : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) {
      if ((handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
  });
  return handle != nullptr ? dlsym(handle, name) : nullptr;
}

}  // namespace

// Each forwarder takes its type from nvrtc.h, so a signature mismatch does not compile.
#define ATTNBENCH_NVRTC_FORWARD(name, params, args)                   \
  extern "C" nvrtcResult name params {                                \
    auto* f = reinterpret_cast<decltype(&name)>(nvrtc_symbol(#name)); \
    return f != nullptr ? f args : NVRTC_ERROR_INTERNAL_ERROR;        \
  }

ATTNBENCH_NVRTC_FORWARD(nvrtcCreateProgram,
                        (nvrtcProgram * prog, const char* src, const char* name, int num_headers,
                         const char* const* headers, const char* const* include_names),
                        (prog, src, name, num_headers, headers, include_names))
ATTNBENCH_NVRTC_FORWARD(nvrtcDestroyProgram, (nvrtcProgram * prog), (prog))
ATTNBENCH_NVRTC_FORWARD(nvrtcCompileProgram, (nvrtcProgram prog, int n, const char* const* options),
                        (prog, n, options))
ATTNBENCH_NVRTC_FORWARD(nvrtcGetCUBINSize, (nvrtcProgram prog, size_t* size), (prog, size))
ATTNBENCH_NVRTC_FORWARD(nvrtcGetCUBIN, (nvrtcProgram prog, char* cubin), (prog, cubin))
ATTNBENCH_NVRTC_FORWARD(nvrtcGetProgramLogSize, (nvrtcProgram prog, size_t* size), (prog, size))
ATTNBENCH_NVRTC_FORWARD(nvrtcGetProgramLog, (nvrtcProgram prog, char* log), (prog, log))

extern "C" const char* nvrtcGetErrorString(nvrtcResult result) {
  auto* f = reinterpret_cast<decltype(&nvrtcGetErrorString)>(nvrtc_symbol("nvrtcGetErrorString"));
  return f != nullptr ? f(result) : "NVRTC is not available (libnvrtc not found)";
}
