// The plugin's entry points: registers example.naive, and example.cuda_naive when built with CUDA.
#include <attnbench/plugin.hpp>

#include "naive_backend.hpp"
#ifdef EXAMPLE_WITH_CUDA
#include "cuda_naive_backend.hpp"
#endif

ATTNBENCH_PLUGIN(reg) {
  reg.add_backend(example::make_naive_backend());
#ifdef EXAMPLE_WITH_CUDA
  reg.add_backend(example::make_cuda_naive_backend());
#endif
}
