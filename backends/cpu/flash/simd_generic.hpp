// Portable SIMD traits: 4 fp32 lanes in plain C++ (the compiler vectorises what it can).
#pragma once

#include <math.h>

namespace attnbench::cpu::flash::generic {

// A different width and micro-tile from the x86 variants on purpose: running the
// tests on it too proves the shared algorithm is not tied to one vector width.
struct Simd {
  struct V {
    float x[4];
  };
  static constexpr int W = 4;
  static constexpr int MR = 4;
  static constexpr int NV = 2;

  static V zero() { return {{0.f, 0.f, 0.f, 0.f}}; }
  static V set1(float a) { return {{a, a, a, a}}; }
  static V load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
  static void store(float* p, V a) {
    for (int i = 0; i < 4; ++i) p[i] = a.x[i];
  }
  static V bcast(const float* p) { return set1(*p); }
  static V add(V a, V b) { return {{a.x[0] + b.x[0], a.x[1] + b.x[1], a.x[2] + b.x[2], a.x[3] + b.x[3]}}; }
  static V sub(V a, V b) { return {{a.x[0] - b.x[0], a.x[1] - b.x[1], a.x[2] - b.x[2], a.x[3] - b.x[3]}}; }
  static V mul(V a, V b) { return {{a.x[0] * b.x[0], a.x[1] * b.x[1], a.x[2] * b.x[2], a.x[3] * b.x[3]}}; }
  static V fma(V a, V b, V c) {
    return {{fmaf(a.x[0], b.x[0], c.x[0]), fmaf(a.x[1], b.x[1], c.x[1]), fmaf(a.x[2], b.x[2], c.x[2]),
             fmaf(a.x[3], b.x[3], c.x[3])}};
  }
  static V max(V a, V b) {
    V r;
    for (int i = 0; i < 4; ++i) r.x[i] = a.x[i] > b.x[i] ? a.x[i] : b.x[i];
    return r;
  }
  static float hsum(V a) { return (a.x[0] + a.x[1]) + (a.x[2] + a.x[3]); }
  static void hsum4(V a, V b, V c, V d, float* out) {
    out[0] = hsum(a);
    out[1] = hsum(b);
    out[2] = hsum(c);
    out[3] = hsum(d);
  }
  static float hmax(V a) {
    const float m0 = a.x[0] > a.x[1] ? a.x[0] : a.x[1];
    const float m1 = a.x[2] > a.x[3] ? a.x[2] : a.x[3];
    return m0 > m1 ? m0 : m1;
  }
  static V exp2(V a) {
    V r;
    for (int i = 0; i < 4; ++i) r.x[i] = a.x[i] < -126.0f ? 0.0f : exp2f(a.x[i]);
    return r;
  }
};

}  // namespace attnbench::cpu::flash::generic
