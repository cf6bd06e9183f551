// The FP8 E4M3 "FN" codec on the device (weights.Fp8E4m3 is its Java definition; every function here is bit-identical
// to it, which Fp8KernelsGpuTest checks exhaustively): 1 sign bit, 4 exponent bits with bias 7, 3 mantissa bits;
// exponent 0 is subnormal (m/8 · 2^-6); no infinities; 0x7F and 0xFF are NaN; the largest finite value is 448.
//
//   encode(x)  vLLM's saturate_e4m3: clamp to ±448, round to nearest with ties to the even code; NaN -> 0x7F.
//              Every step is exact in FP32 (a power-of-two scaling, then rintf, which rounds half to even), so the
//              result does not depend on the architecture and needs no sm_89 conversion instruction.
//   decode(c)  the code's value; exact in FP32 and in BF16 (3 mantissa bits, exponents 2^-9 .. 2^8).
//              Built from integer fields rather than by rebiasing a float subnormal, so it holds under -ftz too.
#pragma once

#include "common.cuh"

namespace nemotron::fp8 {

constexpr float kMax = 448.0f;
constexpr unsigned char kNaN = 0x7F;

__device__ __forceinline__ unsigned char encode(float x) {
  if (x != x) return kNaN;
  const unsigned sign = (__float_as_uint(x) >> 24) & 0x80u;
  const float a = fminf(fabsf(x), kMax);
  unsigned code;
  if (a < 0x1.0p-6f) {
    // subnormal range, quantum 2^-9 (a * 512 is exact); a result of 8 is the smallest normal, whose code is 8 too
    code = static_cast<unsigned>(rintf(a * 512.0f));
  } else {
    int e = static_cast<int>((__float_as_uint(a) >> 23) & 0xFFu) - 127;  // a is a normal float: e in [-6, 8]
    // a · 2^(3 - e) is in [8, 16): 3 mantissa bits and the implicit one; the scaling is exact
    unsigned q = static_cast<unsigned>(rintf(a * __uint_as_float(static_cast<unsigned>(127 + 3 - e) << 23)));
    if (q == 16u) {  // rounded up to the next power of two
      ++e;
      q = 8u;
    }
    code = (static_cast<unsigned>(e + 7) << 3) | (q - 8u);
  }
  return static_cast<unsigned char>(sign | code);
}

__device__ __forceinline__ float decode(unsigned char c) {
  const unsigned mag = c & 0x7Fu;
  if (mag == 0x7Fu) return __uint_as_float(0x7FC00000u);
  const unsigned e = mag >> 3;
  const unsigned m = mag & 7u;
  const float v = e == 0u ? static_cast<float>(m) * 0x1.0p-9f : __uint_as_float(((e + 120u) << 23) | (m << 20));
  return (c & 0x80u) ? -v : v;
}

}  // namespace nemotron::fp8
