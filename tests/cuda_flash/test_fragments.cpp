// cuda.flash warp fragments: a CPU emulation of ldmatrix and mma.sync (from the PTX ISA's fragment tables)
// run with the kernels' lane addressing and register use proves S = Q K^T, O = P V and dQ = dS K.
#include <catch2/catch.hpp>

#include <array>
#include <functional>
#include <random>
#include <vector>

#include "backends/cuda/flash/fragments.hpp"

using namespace attnbench::cuda::flash;

namespace {

using Reg = std::array<float, 2>;                  // one 32-bit register holding two 16-bit values
using Warp4 = std::array<std::array<Reg, 4>, 32>;  // per lane, 4 registers

// A shared tile of width W held swizzled, as the kernels store it.
template <int W>
struct SharedTile {
  int rows;
  std::vector<float> data;
  explicit SharedTile(int r) : rows(r), data(static_cast<std::size_t>(r) * W) {}
  void store(int r, int c, float x) { data[swizzle<W>(r, c)] = x; }
};

// ldmatrix.x4 (optionally .trans) per the PTX ISA: lanes 8i..8i+7 give the row
// addresses of matrix i; without .trans lane l receives row l/4, columns 2(l%4)
// and 2(l%4)+1 of each matrix; with .trans it receives the transposed elements.
template <int W>
Warp4 ldmatrix(const SharedTile<W>& tile, const std::function<TileCoord(int)>& lane_addr, bool trans) {
  float m[4][8][8];
  for (int i = 0; i < 4; ++i)
    for (int r = 0; r < 8; ++r) {
      const TileCoord at = lane_addr(8 * i + r);
      REQUIRE(at.col % 8 == 0);
      REQUIRE(at.row < tile.rows);
      const int base = swizzle<W>(at.row, at.col);
      for (int c = 0; c < 8; ++c) m[i][r][c] = tile.data[base + c];
    }
  Warp4 out{};
  for (int l = 0; l < 32; ++l)
    for (int i = 0; i < 4; ++i) {
      const int g = l / 4, t = l % 4;
      out[l][i] = trans ? Reg{m[i][2 * t][g], m[i][2 * t + 1][g]} : Reg{m[i][g][2 * t], m[i][g][2 * t + 1]};
    }
  return out;
}

using Acc = std::array<std::array<float, 4>, 32>;  // per lane, one 16x8 fp32 C fragment

// mma.m16n8k16 per the PTX ISA fragment tables (g = lane/4, t = lane%4):
// a0 (g, 2t..), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..);
// b0 (k 2t.., n g), b1 (k 2t+8.., n g); c0,c1 (g, 2t..), c2,c3 (g+8, 2t..).
void mma(Acc& c, const std::array<std::array<Reg, 4>, 32>& a, const std::array<std::array<Reg, 2>, 32>& b) {
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int h = 0; h < 2; ++h) {
      A[g][2 * t + h] = a[l][0][h];
      A[g + 8][2 * t + h] = a[l][1][h];
      A[g][2 * t + 8 + h] = a[l][2][h];
      A[g + 8][2 * t + 8 + h] = a[l][3][h];
      B[2 * t + h][g] = b[l][0][h];
      B[2 * t + 8 + h][g] = b[l][1][h];
    }
  }
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int i = 0; i < 4; ++i) {
      const int row = g + 8 * (i / 2), col = 2 * t + (i % 2);
      float s = 0.0f;
      for (int k = 0; k < 16; ++k) s += A[row][k] * B[k][col];
      c[l][i] += s;
    }
  }
}

// The b registers {r[0], r[1]} (first n8 tile) or {r[2], r[3]} (second) of an ldmatrix.x4.
std::array<std::array<Reg, 2>, 32> b_half(const Warp4& r, int which) {
  std::array<std::array<Reg, 2>, 32> b{};
  for (int l = 0; l < 32; ++l) b[l] = {r[l][2 * which], r[l][2 * which + 1]};
  return b;
}

// Two adjacent C tiles repacked as one A operand, as the kernels do for P and dS.
Warp4 acc_to_a(const Acc& lo, const Acc& hi) {
  Warp4 a{};
  for (int l = 0; l < 32; ++l)
    a[l] = {Reg{lo[l][0], lo[l][1]}, Reg{lo[l][2], lo[l][3]}, Reg{hi[l][0], hi[l][1]},
            Reg{hi[l][2], hi[l][3]}};
  return a;
}

constexpr int D = 64;   // head dim of the emulated tiles (swizzle needs width >= 64)
constexpr int BK = 64;  // keys per tile
constexpr int W0 = 16;  // rows of the emulated warp's slice, at an offset inside a 64-row tile

std::vector<float> random_matrix(std::mt19937& rng, int rows, int cols) {
  std::uniform_int_distribution<int> d(-4, 4);  // small integers: exact float sums
  std::vector<float> m(static_cast<std::size_t>(rows) * cols);
  for (auto& x : m) x = static_cast<float>(d(rng));
  return m;
}

template <int W>
SharedTile<W> to_shared(const std::vector<float>& m, int rows) {
  SharedTile<W> t(rows);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < W; ++c) t.store(r, c, m[r * W + c]);
  return t;
}

}  // namespace

TEST_CASE("swizzle is a bijection that keeps 8-column chunks contiguous and ldmatrix rows conflict-free",
          "[cuda_flash][fragments]") {
  std::vector<int> seen(64 * 128, 0);
  for (int r = 0; r < 64; ++r)
    for (int c = 0; c < 128; ++c) {
      const int p = swizzle<128>(r, c);
      REQUIRE(p / 128 == r);
      ++seen[p];
      if (c % 8 != 0) CHECK(p == swizzle<128>(r, c - 1) + 1);
    }
  for (int x : seen) REQUIRE(x == 1);
  // The 8 rows of one 8x8 matrix (same logical chunk) land in 8 distinct 16-byte bank groups.
  for (int chunk = 0; chunk < 16; ++chunk) {
    std::vector<int> group(8, 0);
    for (int r = 8; r < 16; ++r) ++group[(swizzle<128>(r, chunk * 8) * 2 / 16) % 8];
    for (int x : group) CHECK(x == 1);
  }
}

TEST_CASE("forward fragments: S = Q K^T, then O = P V with P repacked from the S accumulators",
          "[cuda_flash][fragments]") {
  std::mt19937 rng(3);
  const int warp = 2;  // the emulated warp owns query rows 32..47 of a 64-row Q tile
  const auto q = random_matrix(rng, 64, D), k = random_matrix(rng, BK, D), v = random_matrix(rng, BK, D);
  const auto sq = to_shared<D>(q, 64), sk = to_shared<D>(k, BK), sv = to_shared<D>(v, BK);

  // Q fragments, as loaded once per CTA.
  std::vector<Warp4> qf(D / 16);
  for (int kc = 0; kc < D / 16; ++kc)
    qf[kc] = ldmatrix<D>(
        sq, [&](int l) { return ldsm_a(l, warp * W0, kc * 16); }, false);
  std::vector<Acc> s(BK / 8, Acc{});
  for (int kc = 0; kc < D / 16; ++kc)
    for (int np = 0; np < BK / 16; ++np) {
      const Warp4 kb = ldmatrix<D>(
          sk, [&](int l) { return ldsm_b_nk(l, np * 16, kc * 16); }, false);
      mma(s[2 * np], qf[kc], b_half(kb, 0));
      mma(s[2 * np + 1], qf[kc], b_half(kb, 1));
    }
  for (int j = 0; j < BK / 8; ++j)
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) {
        const int row = warp * W0 + acc_row(l, i), key = 8 * j + acc_col(l, i);
        float want = 0.0f;
        for (int d = 0; d < D; ++d) want += q[row * D + d] * k[key * D + d];
        REQUIRE(s[j][l][i] == want);
      }

  // P: any values in the S layout (here the scores themselves, made small).
  std::vector<float> p(16 * BK);
  for (int j = 0; j < BK / 8; ++j)
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) {
        s[j][l][i] = static_cast<float>(static_cast<int>(s[j][l][i]) % 5);
        p[acc_row(l, i) * BK + 8 * j + acc_col(l, i)] = s[j][l][i];
      }
  std::vector<Acc> o(D / 8, Acc{});
  for (int kk = 0; kk < BK / 16; ++kk) {
    const Warp4 pa = acc_to_a(s[2 * kk], s[2 * kk + 1]);
    for (int dp = 0; dp < D / 16; ++dp) {
      const Warp4 vb = ldmatrix<D>(
          sv, [&](int l) { return ldsm_b_kn_trans(l, kk * 16, dp * 16); }, true);
      mma(o[2 * dp], pa, b_half(vb, 0));
      mma(o[2 * dp + 1], pa, b_half(vb, 1));
    }
  }
  for (int j = 0; j < D / 8; ++j)
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) {
        const int row = acc_row(l, i), d = 8 * j + acc_col(l, i);
        float want = 0.0f;
        for (int key = 0; key < BK; ++key) want += p[row * BK + key] * v[key * D + d];
        REQUIRE(o[j][l][i] == want);
      }
}

TEST_CASE("backward fragments: dS^T stored key-major, read back as the A operand of dQ = dS K",
          "[cuda_flash][fragments]") {
  std::mt19937 rng(4);
  constexpr int BQ = 64;
  const auto k = random_matrix(rng, BK, D);
  const auto sk = to_shared<D>(k, BK);
  // dS^T [BK keys][BQ queries], produced by 4 warps of 16 keys in the accumulator
  // layout and stored with the A-operand register coordinates, as the kernel does.
  const auto dst = random_matrix(rng, BK, BQ);
  SharedTile<BQ> sds(BK);
  for (int w = 0; w < 4; ++w)
    for (int kk = 0; kk < BQ / 16; ++kk) {
      Acc lo{}, hi{};
      for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) {
          lo[l][i] = dst[(w * 16 + acc_row(l, i)) * BQ + 16 * kk + acc_col(l, i)];
          hi[l][i] = dst[(w * 16 + acc_row(l, i)) * BQ + 16 * kk + 8 + acc_col(l, i)];
        }
      const Warp4 da = acc_to_a(lo, hi);
      for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i)
          for (int h = 0; h < 2; ++h) sds.store(w * 16 + a_row(l, i), 16 * kk + a_col(l, i) + h, da[l][i][h]);
    }
  for (int r = 0; r < BK; ++r)
    for (int c = 0; c < BQ; ++c) REQUIRE(sds.data[swizzle<BQ>(r, c)] == dst[r * BQ + c]);

  // Warp 1 computes dQ for queries 16..31 over all 64 keys.
  const int warp = 1;
  std::vector<Warp4> dsa(BK / 16);
  for (int kc = 0; kc < BK / 16; ++kc)
    dsa[kc] = ldmatrix<BQ>(
        sds, [&](int l) { return ldsm_a_km_trans(l, warp * 16, kc * 16); }, true);
  for (int dp = 0; dp < D / 16; ++dp) {
    Acc acc[2] = {};
    for (int kc = 0; kc < BK / 16; ++kc) {
      const Warp4 kb = ldmatrix<D>(
          sk, [&](int l) { return ldsm_b_kn_trans(l, kc * 16, dp * 16); }, true);
      mma(acc[0], dsa[kc], b_half(kb, 0));
      mma(acc[1], dsa[kc], b_half(kb, 1));
    }
    for (int n = 0; n < 2; ++n)
      for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) {
          const int query = warp * 16 + acc_row(l, i), d = dp * 16 + n * 8 + acc_col(l, i);
          float want = 0.0f;
          for (int key = 0; key < BK; ++key) want += dst[key * BQ + query] * k[key * D + d];
          REQUIRE(acc[n][l][i] == want);
        }
  }
}
