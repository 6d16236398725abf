// Random mask specifications for the property tests: every mask, random parameters and seeds.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "masks/library.hpp"

namespace attnbench::test {

struct RandomCase {
  MaskSpec spec;
  std::int64_t seqlen_q = 0, seqlen_k = 0;
};

// Sizes up to max_seqlen; Sq != Sk half of the time where the mask allows it.
RandomCase random_case(const std::string& name, std::mt19937_64& rng, std::int64_t max_seqlen);

}  // namespace attnbench::test
