// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the generator behind
// cuRAND's and PyTorch's CUDA RNG): a counter-based generator, so the random numbers for (seed, step, token)
// are a pure function of those three values. That is what per-request seeds need on a GPU: no generator
// state to carry between steps, the same draws whatever else is in the batch, any thread can compute its own
// token's number without touching anyone else's.
//
// __host__ __device__ so the known-answer vectors of the Random123 distribution can be checked on the host.
#pragma once

#include <cstdint>

namespace nemotron::philox {

struct U32x4 {
  uint32_t v[4];
};

constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1

__host__ __device__ __forceinline__ void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Ten rounds; key = two 32-bit words, counter = four.
__host__ __device__ __forceinline__ U32x4 philox4x32_10(U32x4 ctr, uint32_t k0, uint32_t k1) {
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, ctr.v[0], hi0, lo0);
    mulhilo(kM1, ctr.v[2], hi1, lo1);
    ctr = U32x4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return ctr;
}

// A uniform double in (0, 1) from 52 random bits, never 0 or 1 (so -log(u) and -log(-log(u)) are finite):
// (n + 0.5) / 2^52 is exact in a double for every 52-bit n (53 significant bits), from 2^-53 to 1 - 2^-53.
// With 53 bits the largest value, 2^53 - 0.5, would round up to 2^53 and give exactly 1.
__host__ __device__ __forceinline__ double uniform_open(uint32_t a, uint32_t b) {
  const uint64_t bits = ((static_cast<uint64_t>(a) << 20) ^ (b >> 12)) & ((uint64_t{1} << 52) - 1);
  return (static_cast<double>(bits) + 0.5) * 0x1.0p-52;
}

// The uniform of token `index` at sampling step `step` of the request seeded `seed`:
// key = seed, counter = (index, 0, step low, step high).
__host__ __device__ __forceinline__ double token_uniform(uint64_t seed, uint64_t step, uint32_t index) {
  const U32x4 r = philox4x32_10(U32x4{{index, 0u, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32)}},
                                static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return uniform_open(r.v[0], r.v[1]);
}

}  // namespace nemotron::philox
