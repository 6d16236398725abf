// Error checks for CUDA runtime, cuBLAS and cuDNN calls: throw with "file:line: call: error".
#pragma once

#include <cuda_runtime_api.h>

namespace attnbench::cuda {

// Throws attnbench::OutOfMemory when `out_of_memory`, std::runtime_error otherwise,
// with the message "file:line: call: library: error string".
[[noreturn]] void throw_call_error(const char* library, const char* error, bool out_of_memory,
                                   const char* call, const char* file, int line);

// For destructors and other places that must not throw: prints the same message to stderr.
void report_call_error(const char* library, const char* error, const char* call, const char* file,
                       int line) noexcept;

}  // namespace attnbench::cuda

// The status-to-string functions are named in the macro bodies only, so this
// header needs cuBLAS/cuDNN headers only where their macros are expanded.
#define ATTNBENCH_CUDA_CHECK(expr)                                                                         \
  do {                                                                                                     \
    const cudaError_t attnbench_status_ = (expr);                                                          \
    if (attnbench_status_ != cudaSuccess) {                                                                \
      ::attnbench::cuda::throw_call_error("CUDA", cudaGetErrorString(attnbench_status_),                   \
                                          attnbench_status_ == cudaErrorMemoryAllocation, #expr, __FILE__, \
                                          __LINE__);                                                       \
    }                                                                                                      \
  } while (0)

// Non-throwing variant for destructors.
#define ATTNBENCH_CUDA_CHECK_NOTHROW(expr)                                                                 \
  do {                                                                                                     \
    const cudaError_t attnbench_status_ = (expr);                                                          \
    if (attnbench_status_ != cudaSuccess) {                                                                \
      ::attnbench::cuda::report_call_error("CUDA", cudaGetErrorString(attnbench_status_), #expr, __FILE__, \
                                           __LINE__);                                                      \
    }                                                                                                      \
  } while (0)

// Needs <cublas_v2.h> (or <cublas_api.h>) where it is used.
#define ATTNBENCH_CUBLAS_CHECK(expr)                                                                        \
  do {                                                                                                      \
    const cublasStatus_t attnbench_status_ = (expr);                                                        \
    if (attnbench_status_ != CUBLAS_STATUS_SUCCESS) {                                                       \
      ::attnbench::cuda::throw_call_error("cuBLAS", cublasGetStatusString(attnbench_status_),               \
                                          attnbench_status_ == CUBLAS_STATUS_ALLOC_FAILED, #expr, __FILE__, \
                                          __LINE__);                                                        \
    }                                                                                                       \
  } while (0)

// Needs <cudnn.h> where it is used.
#define ATTNBENCH_CUDNN_CHECK(expr)                                                      \
  do {                                                                                   \
    const cudnnStatus_t attnbench_status_ = (expr);                                      \
    if (attnbench_status_ != CUDNN_STATUS_SUCCESS) {                                     \
      ::attnbench::cuda::throw_call_error(                                               \
          "cuDNN", cudnnGetErrorString(attnbench_status_),                               \
          attnbench_status_ == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||     \
              attnbench_status_ == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED, \
          #expr, __FILE__, __LINE__);                                                    \
    }                                                                                    \
  } while (0)
