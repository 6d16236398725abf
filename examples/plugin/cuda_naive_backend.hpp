// example.cuda_naive: a one-thread-per-row CUDA forward, declining every case when no GPU is present.
#pragma once

#include <attnbench/backend.hpp>

#include <memory>

namespace example {

std::shared_ptr<attnbench::Backend> make_cuda_naive_backend();

}  // namespace example
