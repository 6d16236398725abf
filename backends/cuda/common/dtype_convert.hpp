// Host-side conversion between fp32 and the device storage types (bf16, fp16), round to nearest even.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <span>
#include <stdexcept>
#include <type_traits>

#include "attnbench/types.hpp"

namespace attnbench::cuda {

// T is a device storage type: float (fp32), __nv_bfloat16 (bf16) or __half (fp16).
template <class T>
inline T from_float(float x) {
  if constexpr (std::is_same_v<T, float>)
    return x;
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16_rn(x);
  else
    return __float2half_rn(x);
}

template <class T>
inline float to_float(T x) {
  if constexpr (std::is_same_v<T, float>)
    return x;
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __bfloat162float(x);
  else
    return __half2float(x);
}

template <class T>
void convert_from_float(std::span<const float> in, std::span<T> out) {
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = from_float<T>(in[i]);
}

template <class T>
void convert_to_float(std::span<const T> in, std::span<float> out) {
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = to_float<T>(in[i]);
}

// The same with the dtype chosen at run time; `out`/`in` hold values of `dtype`
// (fp32, bf16 or fp16; fp64 is not a device storage type and throws).
inline void convert_from_float(DType dtype, std::span<const float> in, void* out) {
  switch (dtype) {
    case DType::fp32: convert_from_float<float>(in, {static_cast<float*>(out), in.size()}); return;
    case DType::bf16:
      convert_from_float<__nv_bfloat16>(in, {static_cast<__nv_bfloat16*>(out), in.size()});
      return;
    case DType::fp16: convert_from_float<__half>(in, {static_cast<__half*>(out), in.size()}); return;
    default: throw std::invalid_argument("convert_from_float: fp64 is not a device storage type");
  }
}

inline void convert_to_float(DType dtype, const void* in, std::span<float> out) {
  const std::size_t n = out.size();
  switch (dtype) {
    case DType::fp32: convert_to_float<float>({static_cast<const float*>(in), n}, out); return;
    case DType::bf16:
      convert_to_float<__nv_bfloat16>({static_cast<const __nv_bfloat16*>(in), n}, out);
      return;
    case DType::fp16: convert_to_float<__half>({static_cast<const __half*>(in), n}, out); return;
    default: throw std::invalid_argument("convert_to_float: fp64 is not a device storage type");
  }
}

}  // namespace attnbench::cuda
