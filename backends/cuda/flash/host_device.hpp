// Marks code shared by the CUDA kernels and the CPU tests: __host__ __device__ under nvcc, plain inline
// otherwise.
#pragma once

#if defined(__CUDACC__)
#define ATTNBENCH_HD __host__ __device__ __forceinline__
#else
#define ATTNBENCH_HD inline
#endif
