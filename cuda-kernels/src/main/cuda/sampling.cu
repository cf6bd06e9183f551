// Logits post-processing and sampling on the device, so that one int per sequence crosses PCIe per step.
// Semantics follow engine/Sampler.java step by step; where a GPU cannot reproduce it, the difference is
// stated below.
//
// ---------------------------------------------------------------------------------------------------------
// sample_penalties_f32(logits, row_stride, vocab, pen_offsets, pen_ids, pen_generated,
//                      repetition, presence, frequency)
//   In place, on the raw logits, before sampling (Sampler.applyPenalties):
//     for each distinct id of the row's prompt + output:  x = x > 0 ? x / rep : x * rep   (rep != 1)
//                                                          x -= frequency * generated + presence   (generated > 0)
//   logits       [rows][row_stride] float
//   pen_offsets  [rows + 1] int32: row b's ids are pen_ids[pen_offsets[b] .. pen_offsets[b+1])  (CSR)
//   pen_ids, pen_generated  int32: the distinct ids of the sequence (SamplingCounts) and how many times each was
//                generated (0 = prompt only). Distinct ids, so no two threads touch one logit.
//   repetition, presence, frequency  [rows] float (1, 0, 0 = off for that row)
//   Launch: grid = (rows), block = (threads) a multiple of 32 (128).
//   If raw logprobs are wanted too (vLLM returns them before penalties), copy the rows first.
//
// sample_tokens_f32(out_ids, logits, row_stride, vocab, temperature, top_k, top_p, min_p, seeds, steps)
//   out_ids      [rows] int32, the sampled token of each row
//   logits       [rows][row_stride] float (the lm_head GEMM writes FP32; penalties already applied)
//   temperature, top_p, min_p [rows] float; top_k [rows] int32; seeds, steps [rows] uint64
//   Launch: grid = (rows), block = (1024), no dynamic shared memory.
//
// Per row, as Sampler.sample:
//   1. temperature 0: argmax, lowest id among ties, NaN never wins (Sampler.argmax); nothing else applies.
//   2. x = logit * (1 / temperature)   (Java multiplies by the float reciprocal; so does this kernel).
//   3. top-k (0 < k < vocab): exactly the k largest, ties at the k-th towards the lower id;
//   4. top-p (< 1) over the softmax of the top-k set: keep a token when the mass strictly before it in
//      "larger first, then lower id" order is below p x total (so at least one is kept);
//   5. min-p (> 0): keep x >= max + ln(min_p), the threshold computed in double as Java does;
//   6. one draw from the renormalised softmax of what is kept.
//
// How, without sorting 128k logits: every filter keeps a PREFIX of the candidates in the order of
// SamplingKeys.descending (value descending, then id ascending; packed here into one 64-bit key). So each
// filter is "find the cut key", done by a block-wide radix select over the 64-bit keys, 8 bits per pass, with
// a 256-bin histogram of (count, mass) in shared memory; a pass that isolates a single element stops early
// (usually after the 4 value bytes), and a search costs a few L2-resident reads of the row.
//   - top-k: the k-th smallest key, by counts;
//   - top-p: the last key whose preceding mass is < p x total, by masses. Masses are exp(x - max) in
//     fixed point (2^-40 units, summed with 64-bit integer atomics): integer sums are associative, so the
//     cut does not depend on the order in which threads add, and a seeded request is reproducible run to run.
//   - the draw is the exponential race ("Gumbel-max"): token = argmax over kept ids of x_i + G_i with G_i =
//     -ln(-ln(U_i)) and U_i = Philox(seed, step, i). This picks id i with probability exactly
//     exp(x_i) / sum_kept exp(x_j), needs no prefix sums, and every thread draws its own tokens' U_i.
//
// The host Sampler (sampling/Sampler.java) draws by the same exponential race with the same Philox numbers, so the
// same (seed, step) gives the same token on both. `steps` is the number of tokens the sequence has generated so far:
// the draw depends only on the request, never on the batch or the step's other rows. Where they may still part
// (stated, not hidden; DeviceSamplingGpuTest compares them row by row):
//   - top-p masses: exp in FP32 and fixed point with 2^-40 resolution, where the CPU sums exp in double; only a
//     token whose preceding mass lies within ~1e-7 (relative) of p x total can fall on the other side of the cut;
//   - -log(-log(u)): double log here and in Java, each within 1 ulp, then rounded to float: two scores within a
//     float ulp of each other may order differently.
//   - an all-NaN or all -inf row yields id 0 on both.
#include "common.cuh"
#include "philox.cuh"

namespace nemotron::sampling {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / kWarpSize;
constexpr int kBins = 256;
constexpr double kMassScale = 1099511627776.0;  // 2^40: exp(x - max) <= 1, so a row of 128k sums below 2^57

// SamplingKeys.descending(value, index) with the sign bit flipped, so that the unsigned order of these keys is
// the signed order of Java's longs: smaller key = larger value, then lower id. NaN is canonicalised as
// Float.floatToIntBits does, and sorts after -inf.
__host__ __device__ __forceinline__ uint64_t descending_key(float value, int index) {
  const float neg = -value;
  int32_t bits;
  memcpy(&bits, &neg, sizeof bits);
  if (value != value) bits = 0x7fc00000;
  const int32_t ordered = bits ^ ((bits >> 31) & 0x7fffffff);
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(ordered)) << 32) | static_cast<uint32_t>(index);
  return key ^ 0x8000000000000000ull;
}

__device__ __forceinline__ unsigned long long fixed_mass(float x, float max) {
  const float w = expf(x - max);
  return w > 0.0f ? static_cast<unsigned long long>(static_cast<double>(w) * kMassScale) : 0ull;  // NaN -> 0
}

// (score, id) argmax over the block: larger score, then lower id; id INT_MAX = no candidate.
struct Best {
  float score;
  int id;
};

__device__ __forceinline__ Best better(Best a, Best b) {
  if (b.score > a.score || (b.score == a.score && b.id < a.id)) return b;
  return a;
}

__device__ __forceinline__ Best block_argmax(Best v) {
  __shared__ float scores[kWarps];
  __shared__ int ids[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    v = better(v, Best{__shfl_xor_sync(kFullWarpMask, v.score, offset), __shfl_xor_sync(kFullWarpMask, v.id, offset)});
  }
  if (lane == 0) {
    scores[warp] = v.score;
    ids[warp] = v.id;
  }
  __syncthreads();
  v = lane < kWarps ? Best{scores[lane], ids[lane]} : Best{-INFINITY, INT_MAX};
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    v = better(v, Best{__shfl_xor_sync(kFullWarpMask, v.score, offset), __shfl_xor_sync(kFullWarpMask, v.id, offset)});
  }
  __syncthreads();  // scores/ids may be reused by the next call
  return v;
}

__device__ __forceinline__ float block_max(float v) {
  __shared__ float partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, offset));
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < kWarps ? partial[lane] : -INFINITY;
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, offset));
  __syncthreads();
  return v;
}

__device__ __forceinline__ unsigned long long block_sum_u64(unsigned long long v) {
  __shared__ unsigned long long partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarpMask, v, offset);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < kWarps ? partial[lane] : 0ull;
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarpMask, v, offset);
  __syncthreads();
  return v;
}

// The row as the filters see it: x_i = logit_i * inv_t, recomputed on every pass (cheaper than a scratch copy,
// and bit-identical each time).
struct Row {
  const float* logits;
  int vocab;
  float inv_t;
  __device__ __forceinline__ float x(int i) const { return __fmul_rn(logits[i], inv_t); }
};

struct RadixState {
  unsigned counts[kBins];
  unsigned long long masses[kBins];
  unsigned long long prefix;     // decided high bits of the answer
  unsigned long long mask;       // which bits are decided
  unsigned long long remaining;  // by count: rank still to skip (1-based); by mass: mass before the prefix
  unsigned chosen_count;         // elements under the decided prefix
  unsigned long long found;      // the answer's key
};

// Finds, among the elements with key <= bound:
//   kByMass = false: the element of rank `target` (1-based) in key order;
//   kByMass = true:  the last element in key order whose preceding mass (sum of fixed_mass over smaller keys) is
//                    < target. target > 0 and the smallest element always qualifies (nothing precedes it).
// Returns its key. Every thread of the block must call it.
template <bool kByMass>
__device__ uint64_t radix_find(RadixState& st, const Row& row, float max, uint64_t bound, unsigned long long target) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  if (threadIdx.x == 0) {
    st.prefix = 0;
    st.mask = 0;
    st.remaining = kByMass ? 0 : target;
    st.chosen_count = 0;
  }
  __syncthreads();
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < kBins; b += kThreads) {
      st.counts[b] = 0;
      st.masses[b] = 0;
    }
    __syncthreads();
    const uint64_t prefix = st.prefix;
    const uint64_t mask = st.mask;
    // Whole-warp iterations (the bound is rounded up) so that __match_any_sync sees every lane.
    for (int base = 0; base < row.vocab; base += kThreads) {
      const int i = base + static_cast<int>(threadIdx.x);
      unsigned digit = kBins;  // kBins = this lane has nothing to add
      float x = 0.0f;
      if (i < row.vocab) {
        x = row.x(i);
        const uint64_t key = descending_key(x, i);
        if (key <= bound && (key & mask) == prefix) digit = static_cast<unsigned>(key >> shift) & (kBins - 1);
      }
      // Warp-aggregated counts: the top bytes of a row's keys fall into a handful of bins, and 32 lanes
      // incrementing one shared counter would serialise.
      const unsigned peers = __match_any_sync(kFullWarpMask, digit);
      if (digit != kBins) {
        if (lane == __ffs(peers) - 1) atomicAdd(&st.counts[digit], static_cast<unsigned>(__popc(peers)));
        if (kByMass) atomicAdd(&st.masses[digit], fixed_mass(x, max));
      }
    }
    __syncthreads();
    if (warp == 0) {
      // Lane l owns bins [8l, 8l + 8): local totals, then an exclusive scan over lanes.
      unsigned long long local = 0;  // counts or masses of this lane's bins
      for (int b = lane * 8; b < lane * 8 + 8; ++b) local += kByMass ? st.masses[b] : st.counts[b];
      unsigned long long before = local;
#pragma unroll
      for (int offset = 1; offset < kWarpSize; offset <<= 1) {
        const unsigned long long up = __shfl_up_sync(kFullWarpMask, before, offset);
        if (lane >= offset) before += up;
      }
      before -= local;  // exclusive
      int pick = -1;
      unsigned long long pick_before = 0;
      if (!kByMass) {
        // The bin holding rank `remaining`: before < remaining <= before + count.
        const unsigned long long r = st.remaining;
        if (before < r && r <= before + local) {
          unsigned long long cum = before;
          for (int b = lane * 8; b < lane * 8 + 8; ++b) {
            if (r <= cum + st.counts[b]) {
              pick = b;
              pick_before = cum;
              break;
            }
            cum += st.counts[b];
          }
        }
      } else {
        // The first non-empty bin whose inclusive mass reaches the target holds the last qualifying element;
        // if none does, every element qualifies and the answer is in the last non-empty bin.
        const unsigned long long base_mass = st.remaining;
        int crossing = -1;
        unsigned long long crossing_before = 0;
        int last_nonempty = -1;
        unsigned long long last_before = 0;
        unsigned long long cum = base_mass + before;
        for (int b = lane * 8; b < lane * 8 + 8; ++b) {
          if (st.counts[b] != 0) {
            if (crossing < 0 && cum + st.masses[b] >= target) {
              crossing = b;
              crossing_before = cum;
            }
            last_nonempty = b;
            last_before = cum;
          }
          cum += st.masses[b];
        }
        const unsigned crossing_lanes = __ballot_sync(kFullWarpMask, crossing >= 0);
        if (crossing_lanes != 0) {
          if (lane == __ffs(crossing_lanes) - 1) {
            pick = crossing;
            pick_before = crossing_before;
          }
        } else {
          const unsigned nonempty_lanes = __ballot_sync(kFullWarpMask, last_nonempty >= 0);
          if (lane == 31 - __clz(nonempty_lanes)) {
            pick = last_nonempty;
            pick_before = last_before;
          }
        }
      }
      // Every lane has read st.remaining and the bins before the picking lane rewrites them. Without this barrier a
      // lane scheduled after the picker (independent thread scheduling, or the emulator's seeded orders) read the
      // updated rank, could pick a second bin, and the prefix was corrupted (the top-k tie test drew ids past k).
      __syncwarp();
      if (pick >= 0) {
        st.prefix |= static_cast<uint64_t>(pick) << shift;
        st.mask |= static_cast<uint64_t>(kBins - 1) << shift;
        st.remaining = kByMass ? pick_before : st.remaining - pick_before;
        st.chosen_count = st.counts[pick];
      }
    }
    __syncthreads();
    if (st.chosen_count == 1 || shift == 0) break;  // uniform: read after the barrier by every thread
  }
  const uint64_t prefix = st.prefix;
  const uint64_t mask = st.mask;
  if (mask != ~0ull) {
    // One element left under the prefix: find its key.
    for (int i = threadIdx.x; i < row.vocab; i += kThreads) {
      const uint64_t key = descending_key(row.x(i), i);
      if (key <= bound && (key & mask) == prefix) st.found = key;
    }
  } else if (threadIdx.x == 0) {
    st.found = prefix;
  }
  __syncthreads();
  const uint64_t found = st.found;
  __syncthreads();  // st is reused by the next search
  return found;
}

}  // namespace nemotron::sampling

extern "C" __global__ void __launch_bounds__(1024)
sample_penalties_f32(float* logits, int row_stride, int vocab, const int* __restrict__ pen_offsets,
                     const int* __restrict__ pen_ids, const int* __restrict__ pen_generated,
                     const float* __restrict__ repetition, const float* __restrict__ presence,
                     const float* __restrict__ frequency) {
  const int row = static_cast<int>(blockIdx.x);
  float* x = logits + static_cast<std::size_t>(row) * row_stride;
  const float rep = repetition[row];
  const float pres = presence[row];
  const float freq = frequency[row];
  for (int e = pen_offsets[row] + static_cast<int>(threadIdx.x); e < pen_offsets[row + 1]; e += blockDim.x) {
    const int id = pen_ids[e];
    if (id < 0 || id >= vocab) continue;  // as the CPU: ids beyond the logits row are ignored
    float v = x[id];
    if (rep != 1.0f) v = v > 0.0f ? v / rep : v * rep;
    const int generated = pen_generated[e];
    // Java evaluates x -= f * g + p as x = x - ((f * g) + p), each step rounded: no FMA here either.
    if (generated > 0) v = __fsub_rn(v, __fadd_rn(__fmul_rn(freq, static_cast<float>(generated)), pres));
    x[id] = v;
  }
}

extern "C" __global__ void __launch_bounds__(1024)
sample_tokens_f32(int* out_ids, const float* __restrict__ logits, int row_stride, int vocab,
                  const float* __restrict__ temperature, const int* __restrict__ top_k, const float* __restrict__ top_p,
                  const float* __restrict__ min_p, const unsigned long long* __restrict__ seeds,
                  const unsigned long long* __restrict__ steps) {
  using namespace nemotron::sampling;
  __shared__ RadixState st;
  const int row_index = static_cast<int>(blockIdx.x);
  const float t = temperature[row_index];
  // Greedy: the raw logits (inv_t = 1 multiplies exactly).
  Row row{logits + static_cast<std::size_t>(row_index) * row_stride, vocab, t == 0.0f ? 1.0f : 1.0f / t};

  if (t == 0.0f) {
    Best best{-INFINITY, INT_MAX};
    for (int i = threadIdx.x; i < vocab; i += kThreads) {
      const float v = row.x(i);
      if (v == v) best = better(best, Best{v, i});  // NaN never wins
    }
    best = block_argmax(best);
    if (threadIdx.x == 0) out_ids[row_index] = best.id == INT_MAX ? 0 : best.id;
    return;
  }

  float local_max = -INFINITY;
  for (int i = threadIdx.x; i < vocab; i += kThreads) local_max = fmaxf(local_max, row.x(i));  // fmaxf drops NaN
  const float max = block_max(local_max);

  uint64_t cut = ~0ull;  // keep keys <= cut
  const int k = top_k[row_index];
  if (k > 0 && k < vocab) cut = radix_find<false>(st, row, max, cut, static_cast<unsigned long long>(k));
  const float p = top_p[row_index];
  if (p < 1.0f) {
    unsigned long long local = 0;
    for (int i = threadIdx.x; i < vocab; i += kThreads) {
      const float v = row.x(i);
      if (descending_key(v, i) <= cut) local += fixed_mass(v, max);
    }
    const unsigned long long total = block_sum_u64(local);
    // mass < p * total  <=>  mass < ceil(p * total) for integer masses.
    const unsigned long long limit = static_cast<unsigned long long>(ceil(static_cast<double>(p) * static_cast<double>(total)));
    if (limit > 0) cut = radix_find<true>(st, row, max, cut, limit);
  }
  const float mp = min_p[row_index];
  const double floor = mp > 0.0f ? static_cast<double>(max) + log(static_cast<double>(mp)) : -INFINITY;

  const uint64_t seed = seeds[row_index];
  const uint64_t step = steps[row_index];
  Best best{-INFINITY, INT_MAX};
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = row.x(i);
    if (!(static_cast<double>(v) >= floor) || descending_key(v, i) > cut) continue;  // NaN fails >=
    const double u = nemotron::philox::token_uniform(seed, step, static_cast<uint32_t>(i));
    const float gumbel = static_cast<float>(-log(-log(u)));
    best = better(best, Best{(v - max) + gumbel, i});
  }
  best = block_argmax(best);
  if (threadIdx.x == 0) out_ids[row_index] = best.id == INT_MAX ? 0 : best.id;
}
