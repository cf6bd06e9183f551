// Host-side checks of the kernels' __host__ __device__ helpers, compiled by nvcc as a host program and run
// by HostChecksTest (no GPU needed). Oracles: the Random123 known-answer vectors for Philox4x32-10, and
// keys worked out by hand from engine/SamplingKeys.java.
#include <cinttypes>
#include <cstdio>
#include <cmath>
#include <limits>

#include "philox.cuh"
#include "sampling.cu"

static int failures = 0;

static void expect_u32x4(const char* what, nemotron::philox::U32x4 got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  if (got.v[0] != a || got.v[1] != b || got.v[2] != c || got.v[3] != d) {
    std::printf("FAIL %s: got %08x %08x %08x %08x, want %08x %08x %08x %08x\n", what, got.v[0], got.v[1], got.v[2],
                got.v[3], a, b, c, d);
    ++failures;
  }
}

static void expect_true(const char* what, bool ok) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    ++failures;
  }
}

int main() {
  using nemotron::philox::U32x4;
  using nemotron::philox::philox4x32_10;
  // Random123 kat_vectors, "philox4x32 10": counter words, key words -> output words.
  expect_u32x4("philox zero", philox4x32_10(U32x4{{0, 0, 0, 0}}, 0, 0), 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
  expect_u32x4("philox ones",
               philox4x32_10(U32x4{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff),
               0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
  expect_u32x4("philox pi",
               philox4x32_10(U32x4{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0),
               0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);

  // uniform_open: never 0 or 1, even for all-zero and all-one bits.
  const double lo = nemotron::philox::uniform_open(0, 0);
  const double hi = nemotron::philox::uniform_open(0xffffffff, 0xffffffff);
  expect_true("uniform_open(0,0) in (0,1)", lo > 0.0 && lo < 1.0);
  expect_true("uniform_open(~0,~0) in (0,1)", hi > 0.0 && hi < 1.0);
  expect_true("uniform_open finite gumbel", std::isfinite(-std::log(-std::log(lo))) && std::isfinite(-std::log(-std::log(hi))));

  // descending_key = SamplingKeys.descending(v, i) ^ 2^63. By hand: -1.0f = 0xBF800000 (negative) ->
  // ordered = 0xBF800000 ^ 0x7FFFFFFF = 0xC07FFFFF; key = 0xC07FFFFF_00000005 ^ 2^63 = 0x407FFFFF_00000005.
  using nemotron::sampling::descending_key;
  expect_true("key(1.0, 5)", descending_key(1.0f, 5) == 0x407FFFFF00000005ull);
  // -(-2.0f) = 2.0f = 0x40000000 (positive) -> ordered unchanged; key = 0x40000000_00000007 ^ 2^63.
  expect_true("key(-2.0, 7)", descending_key(-2.0f, 7) == 0xC000000000000007ull);
  // Order: larger value first, then lower id; +0 before -0 (as Java's floatToIntBits order of -v); -inf, then NaN last.
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float order[] = {inf, 3.5f, 1.0f, 1.0e-30f, 0.0f, -0.0f, -1.0e-30f, -1.0f, -3.5f, -inf, nan};
  for (int i = 0; i + 1 < static_cast<int>(sizeof order / sizeof order[0]); ++i) {
    char what[64];
    std::snprintf(what, sizeof what, "order %d < %d", i, i + 1);
    expect_true(what, descending_key(order[i], 100) < descending_key(order[i + 1], 0));
  }
  expect_true("tie -> lower id first", descending_key(2.0f, 3) < descending_key(2.0f, 4));
  expect_true("every NaN is one key", descending_key(nan, 1) == descending_key(-nan, 1));

  if (failures == 0) std::printf("host checks passed\n");
  return failures == 0 ? 0 : 1;
}
