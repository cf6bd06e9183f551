// Paged causal GQA attention over the engine's block tables (the second half of Backend.attention), with
// a flash-style online softmax and FP32 accumulation. K/V are read from the pool written by kv_write
// (layout in paged_kv.cuh); Q rows are already rotated.
//
// Semantics, identical to the CPU backend (Attention.decodePaged via AttentionJob): row r belongs to
// sequence s = seq_of_row[r] and sits at position p = positions[r]; each of its query heads h attends to the
// positions [0, p] of s, read through block_tables[s], with kv head h / (heads / kv_heads) and scale
// 1/sqrt(head_dim) (passed in as `scale`). Rows are independent, so any mix of prefill chunks and decode rows
// is legal in both kernels below; they differ only in how work is tiled.
//
// ---------------------------------------------------------------------------------------------------------
// paged_attention_decode_bf16(out, out_stride, q, q_stride, k_cache, v_cache, block_tables,
//     block_table_stride, seq_of_row, positions, num_heads, num_kv_heads, head_dim, block_size_log2, scale,
//     partition_tokens, part_out, part_max, part_sum, max_partitions)
//   One CTA = one row x one kv head (x one chunk of <= 16 of its query heads) x one partition of the context.
//   Grid  = (rows, num_kv_heads * ceil(group / 16), partitions), block = (128), no dynamic shared memory,
//           group = num_heads / num_kv_heads.
//   partition_tokens = 0: no split; gridDim.z must be 1 and `out` is written directly (part_* unused, may be 0).
//   partition_tokens = P > 0 (a multiple of 32): split-KV ("flash decoding"): partition z covers positions
//           [z*P, min((z+1)*P, p+1)); gridDim.z = max_partitions >= ceil(longest context / P). Each CTA writes
//           its un-normalized partial output and its running max / sum to
//             part_out [rows][num_heads][max_partitions][head_dim] float
//             part_max [rows][num_heads][max_partitions]           float (log2 domain)
//             part_sum [rows][num_heads][max_partitions]           float
//           and paged_attention_reduce_bf16 combines them. A CTA whose partition starts beyond its row's
//           context exits at once, and the reduce reads only the partitions that exist.
//   Why split: at batch 1 one decode step has num_kv_heads CTAs per layer (1 per GPU for Ultra at TP 8), far
//   too few to pull the KV cache through HBM at full bandwidth; splitting a long context over P-token
//   partitions puts ceil(context / P) times more CTAs in flight.
//
// paged_attention_reduce_bf16(out, out_stride, part_out, part_max, part_sum, positions, num_heads, head_dim,
//     partition_tokens, max_partitions)
//   Grid = (rows, num_heads), block = (threads) a multiple of 32 (head_dim rounded up to 32 is plenty).
//   out = sum_z 2^(m_z - M) * acc_z / sum_z 2^(m_z - M) * l_z over the row's ceil((p+1)/P) partitions.
//
// paged_attention_prefill_bf16(out, out_stride, q, q_stride, k_cache, v_cache, block_tables,
//     block_table_stride, seq_of_row, positions, tile_row_start, tile_num_rows, num_heads, num_kv_heads,
//     head_dim, block_size_log2, scale)
//   One CTA = one query tile x one kv head (x one chunk of <= 16 query heads). A tile is tile_num_rows[t]
//   consecutive rows starting at row tile_row_start[t], all of ONE sequence (a prefill chunk is cut into
//   tiles; a decode row is a tile of one row), with tile_num_rows[t] * min(group, 16) <= 16: the CTA holds
//   16 (row, head) query vectors, and every K/V tile it loads serves all of them. The host builds the tile
//   list (rows_per_tile = max(1, 16 / min(group, 16))). The CTA walks positions [0, max p of its rows] and
//   masks per query vector.
//   Grid = (num_tiles, num_kv_heads * ceil(group / 16)), block = (128).
//
// paged_attention_decode_fp8(..., k_scale, v_scale), paged_attention_prefill_fp8(..., k_scale, v_scale)
//   The same kernels over an FP8 cache (kv_write_fp8): k_cache / v_cache hold E4M3 codes, read as code · scale with
//   this layer's k_scale / v_scale. The codes are decoded into the shared-memory tile as BF16 (exact: every E4M3
//   value is a BF16 value), and the scales are applied outside the inner loops, where they factor out exactly in
//   real arithmetic: k_scale into the staged query (q·(k8·ks) = (q·ks)·k8), v_scale into the output (Σ p·v8·vs =
//   vs·Σ p·v8, also for the un-normalized partials, which the same reduce then combines). So the FP8 kernels run the
//   BF16 kernels' inner loops unchanged; the roundings differ from scaling each element first by one FP32 rounding
//   per product (the attention parity test bounds it). Arguments and launch as the BF16 kernels, plus the two scales.
//
// Common arguments:
//   out        [rows][out_stride] bf16, head h of row r at out + r*out_stride + h*head_dim (Buf.ATT)
//   q          [rows][q_stride]   bf16, head h at q + r*q_stride + h*head_dim (Buf.Q, after rope)
//   k_cache, v_cache  this layer's pool (paged_kv.cuh); block_tables [num_seqs][block_table_stride] int32,
//              the StepBatch.blockTables rows padded to one stride; seq_of_row, positions [rows] int32
//   head_dim   even, <= 128 (every Llama-3 / nemotron-nas model: Ultra 128; the tiny test models 8 and 16)
//   num_heads a multiple of num_kv_heads; block_size = 1 << block_size_log2
//
// ---------------------------------------------------------------------------------------------------------
// How one CTA works (4 warps, 32-token tiles):
//   - The CTA's query vectors (<= 16) are staged in shared memory as FP32, pre-multiplied by
//     scale * log2(e) so that the softmax uses exp2f (one MUFU op) instead of expf.
//   - Per tile, the 128 threads load 32 tokens of K and V for the kv head into shared memory with 16-byte
//     loads (a block's tokens are contiguous for one kv head, so a tile is 1-2 contiguous runs).
//   - Warp w owns query vectors w, w+4, w+8, w+12 for the whole kernel: it computes their scores with one
//     token per lane (each lane reads its K row from shared memory; the row stride is padded to head_dim+2
//     elements = an odd number of 32-bit words, so the 32 lanes hit 32 different banks), updates the running
//     max m and sum l of each of its vectors with warp shuffles, writes the probabilities to shared memory, and
//     accumulates P·V with lanes over head_dim (consecutive elements: conflict-free). Because a warp owns its
//     vectors' m, l and accumulators outright, the softmax needs no block-wide barrier, only the two barriers
//     around each tile load.
//   - Accumulators stay in registers: 4 vectors x 2 pairs of dims per lane (head_dim <= 128).
// Correct first: the loads are not double-buffered (cp.async) and the math runs on CUDA cores, not tensor
// cores; a prefill tile of 16 query vectors re-reads K/V from L2 far more often than FlashAttention-2's 128-row
// tiles would. Those are the next steps for speed, behind the same entry points.
#include <type_traits>

#include "fp8_e4m3.cuh"
#include "paged_kv.cuh"

namespace nemotron::attention {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
constexpr int kTile = kWarpSize;                  // tokens per tile: one per lane in the score phase
constexpr int kMaxHeadDim = 128;
constexpr int kMaxQueryVectors = 16;              // (row, head) pairs per CTA
constexpr int kVectorsPerWarp = kMaxQueryVectors / kWarps;
constexpr int kPairsPerLane = kMaxHeadDim / (2 * kWarpSize);  // dims are handled as bf16 pairs
constexpr int kKvRowStride = kMaxHeadDim + 2;     // padded: 65 words per row, odd, so column reads are conflict-free
constexpr float kLog2e = 1.4426950408889634f;

struct alignas(16) Shared {
  __nv_bfloat16 k[kTile * kKvRowStride];
  __nv_bfloat16 v[kTile * kKvRowStride];
  float q[kMaxQueryVectors * kMaxHeadDim];
  float p[kMaxQueryVectors * kTile];
};

// What one CTA computes: query vectors (row0 + i / nheads, head0 + i % nheads) for i < nrows * nheads, all of
// kv head kv_head, over positions [t_begin, t_end) of one sequence.
struct Work {
  const int* table;
  int row0, nrows;
  int head0, nheads;
  int kv_head;
  int t_begin, t_end;
};

__device__ __forceinline__ float warp_reduce_max(float v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, offset));
  return v;
}

// Loads tokens [t0, t0 + n) of kv head `kv_head` into shared rows 0..n-1 (rows n..31 are left stale: their
// scores are masked and their probabilities are zero, and 0 * stale is avoided by never reading them).
__device__ __forceinline__ void load_tile(Shared& sm, const __nv_bfloat16* __restrict__ k_cache,
                                          const __nv_bfloat16* __restrict__ v_cache, const Work& w, int t0, int n,
                                          int kv_heads, int head_dim, int block_size_log2) {
  // BF16 cache: copied as it is
  if (head_dim % 8 == 0) {
    // 16-byte global loads; shared rows are not 16-byte aligned (padded stride), so store 4 words.
    const int packs = head_dim / 8;
    for (int e = threadIdx.x; e < n * packs; e += kThreads) {
      const int t = e / packs;
      const int d = (e - t * packs) * 8;
      const int slot = paged_kv::slot_of(w.table, t0 + t, block_size_log2);
      const std::size_t src = paged_kv::index(slot, w.kv_head, d, kv_heads, head_dim, block_size_log2);
      const uint4 kv = *reinterpret_cast<const uint4*>(k_cache + src);
      const uint4 vv = *reinterpret_cast<const uint4*>(v_cache + src);
      unsigned* kd = reinterpret_cast<unsigned*>(sm.k + t * kKvRowStride + d);
      unsigned* vd = reinterpret_cast<unsigned*>(sm.v + t * kKvRowStride + d);
      kd[0] = kv.x; kd[1] = kv.y; kd[2] = kv.z; kd[3] = kv.w;
      vd[0] = vv.x; vd[1] = vv.y; vd[2] = vv.z; vd[3] = vv.w;
    }
  } else {
    // Small heads (stories260K: 8 is a multiple of 8; the generic path is for other even sizes): 4-byte pairs.
    const int pairs = head_dim / 2;
    for (int e = threadIdx.x; e < n * pairs; e += kThreads) {
      const int t = e / pairs;
      const int d = (e - t * pairs) * 2;
      const int slot = paged_kv::slot_of(w.table, t0 + t, block_size_log2);
      const std::size_t src = paged_kv::index(slot, w.kv_head, d, kv_heads, head_dim, block_size_log2);
      *reinterpret_cast<unsigned*>(sm.k + t * kKvRowStride + d) = *reinterpret_cast<const unsigned*>(k_cache + src);
      *reinterpret_cast<unsigned*>(sm.v + t * kKvRowStride + d) = *reinterpret_cast<const unsigned*>(v_cache + src);
    }
  }
}

// FP8 cache: the same tile, each code decoded to its (BF16-exact) E4M3 value; the scales are applied by attend().
__device__ __forceinline__ __nv_bfloat162 decode_pair(unsigned char lo, unsigned char hi) {
  return __floats2bfloat162_rn(fp8::decode(lo), fp8::decode(hi));
}

__device__ __forceinline__ void load_tile(Shared& sm, const unsigned char* __restrict__ k_cache,
                                          const unsigned char* __restrict__ v_cache, const Work& w, int t0, int n,
                                          int kv_heads, int head_dim, int block_size_log2) {
  if (head_dim % 8 == 0) {
    // 8-byte global loads of 8 codes (a head's row starts at a multiple of head_dim bytes: 8-byte aligned)
    const int packs = head_dim / 8;
    for (int e = threadIdx.x; e < n * packs; e += kThreads) {
      const int t = e / packs;
      const int d = (e - t * packs) * 8;
      const int slot = paged_kv::slot_of(w.table, t0 + t, block_size_log2);
      const std::size_t src = paged_kv::index(slot, w.kv_head, d, kv_heads, head_dim, block_size_log2);
      const uint2 kc = *reinterpret_cast<const uint2*>(k_cache + src);
      const uint2 vc = *reinterpret_cast<const uint2*>(v_cache + src);
      __nv_bfloat162* kd = reinterpret_cast<__nv_bfloat162*>(sm.k + t * kKvRowStride + d);
      __nv_bfloat162* vd = reinterpret_cast<__nv_bfloat162*>(sm.v + t * kKvRowStride + d);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const unsigned kw = j < 2 ? kc.x : kc.y;
        const unsigned vw = j < 2 ? vc.x : vc.y;
        const int shift = (j % 2) * 16;  // little-endian: code d + 2j is byte 2j of the 8
        kd[j] = decode_pair(static_cast<unsigned char>(kw >> shift), static_cast<unsigned char>(kw >> (shift + 8)));
        vd[j] = decode_pair(static_cast<unsigned char>(vw >> shift), static_cast<unsigned char>(vw >> (shift + 8)));
      }
    }
  } else {
    const int pairs = head_dim / 2;
    for (int e = threadIdx.x; e < n * pairs; e += kThreads) {
      const int t = e / pairs;
      const int d = (e - t * pairs) * 2;
      const int slot = paged_kv::slot_of(w.table, t0 + t, block_size_log2);
      const std::size_t src = paged_kv::index(slot, w.kv_head, d, kv_heads, head_dim, block_size_log2);
      *reinterpret_cast<__nv_bfloat162*>(sm.k + t * kKvRowStride + d) = decode_pair(k_cache[src], k_cache[src + 1]);
      *reinterpret_cast<__nv_bfloat162*>(sm.v + t * kKvRowStride + d) = decode_pair(v_cache[src], v_cache[src + 1]);
    }
  }
}

// Runs one CTA's work. kPartial: write the un-normalized partial (acc, m, l) of partition `part` instead of out.
// Cache: __nv_bfloat16, or unsigned char for an FP8 cache, whose k_scale / v_scale are applied here (unused for BF16).
template <bool kPartial, typename Cache>
__device__ __forceinline__ void attend(Shared& sm, const Work& w, __nv_bfloat16* out, int out_stride,
                                       const __nv_bfloat16* __restrict__ q, int q_stride,
                                       const Cache* __restrict__ k_cache, const Cache* __restrict__ v_cache,
                                       const int* __restrict__ positions, int num_heads, int kv_heads, int head_dim,
                                       int block_size_log2, float scale, float k_scale, float v_scale,
                                       float* part_out, float* part_max, float* part_sum, int max_partitions,
                                       int part) {
  constexpr bool kFp8 = std::is_same_v<Cache, unsigned char>;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int nvec = w.nrows * w.nheads;
  const int half_dim = head_dim / 2;
  // FP8: k_scale folds into the query, as (q · ks) · k8 = q · (k8 · ks)
  const float qscale = kFp8 ? scale * kLog2e * k_scale : scale * kLog2e;

  for (int e = threadIdx.x; e < nvec * head_dim; e += kThreads) {
    const int i = e / head_dim;
    const int d = e - i * head_dim;
    const int row = w.row0 + i / w.nheads;
    const int head = w.head0 + i % w.nheads;
    sm.q[i * kMaxHeadDim + d] = __bfloat162float(q[static_cast<std::size_t>(row) * q_stride + head * head_dim + d]) * qscale;
  }

  // This warp's query vectors and their causal limits.
  int vec[kVectorsPerWarp];
  int limit[kVectorsPerWarp];  // last position the vector may see; -1 for an unused slot
  float m[kVectorsPerWarp];
  float l[kVectorsPerWarp];
  float2 acc[kVectorsPerWarp][kPairsPerLane];
#pragma unroll
  for (int j = 0; j < kVectorsPerWarp; ++j) {
    vec[j] = warp + j * kWarps;
    limit[j] = vec[j] < nvec ? positions[w.row0 + vec[j] / w.nheads] : -1;
    m[j] = -INFINITY;
    l[j] = 0.0f;
#pragma unroll
    for (int c = 0; c < kPairsPerLane; ++c) acc[j][c] = make_float2(0.0f, 0.0f);
  }

  for (int t0 = w.t_begin; t0 < w.t_end; t0 += kTile) {
    const int n = min(kTile, w.t_end - t0);
    __syncthreads();  // the previous tile's K/V (and, first time round, nothing) is no longer read
    load_tile(sm, k_cache, v_cache, w, t0, n, kv_heads, head_dim, block_size_log2);
    __syncthreads();

    // Scores: lane = token t0 + lane, for all of this warp's vectors at once (one K row read, 4 dot products).
    float s[kVectorsPerWarp];
#pragma unroll
    for (int j = 0; j < kVectorsPerWarp; ++j) s[j] = 0.0f;
    if (lane < n) {
      const __nv_bfloat162* krow = reinterpret_cast<const __nv_bfloat162*>(sm.k + lane * kKvRowStride);
      for (int c = 0; c < half_dim; ++c) {
        const float2 kf = __bfloat1622float2(krow[c]);
#pragma unroll
        for (int j = 0; j < kVectorsPerWarp; ++j) {
          if (vec[j] < nvec) {
            const float2 qf = *reinterpret_cast<const float2*>(sm.q + vec[j] * kMaxHeadDim + 2 * c);
            s[j] = fmaf(qf.x, kf.x, fmaf(qf.y, kf.y, s[j]));
          }
        }
      }
    }

    // Online softmax per vector (log2 domain): rescale what was accumulated when the max grows.
#pragma unroll
    for (int j = 0; j < kVectorsPerWarp; ++j) {
      if (vec[j] >= nvec) continue;  // uniform across the warp: vec[j] depends on the warp only
      const bool visible = lane < n && t0 + lane <= limit[j];
      const float score = visible ? s[j] : -INFINITY;
      const float m_new = fmaxf(m[j], warp_reduce_max(score));
      // m_new = -inf: nothing visible yet (a prefill row whose position is below this tile); keep the state.
      const float alpha = m_new == -INFINITY ? 1.0f : exp2f(m[j] - m_new);
      const float p = visible ? exp2f(score - m_new) : 0.0f;
      l[j] = l[j] * alpha + warp_reduce_sum(p);
      m[j] = m_new;
      sm.p[vec[j] * kTile + lane] = p;
#pragma unroll
      for (int c = 0; c < kPairsPerLane; ++c) {
        acc[j][c].x *= alpha;
        acc[j][c].y *= alpha;
      }
    }
    __syncwarp();

    // P·V: lane owns dim pairs (2*lane + 64*c); V rows are read along head_dim, so lanes hit consecutive words.
    for (int t = 0; t < n; ++t) {
      const __nv_bfloat162* vrow = reinterpret_cast<const __nv_bfloat162*>(sm.v + t * kKvRowStride);
#pragma unroll
      for (int c = 0; c < kPairsPerLane; ++c) {
        const int pair = lane + c * kWarpSize;
        if (pair < half_dim) {
          const float2 vf = __bfloat1622float2(vrow[pair]);
#pragma unroll
          for (int j = 0; j < kVectorsPerWarp; ++j) {
            if (vec[j] < nvec) {
              const float p = sm.p[vec[j] * kTile + t];
              acc[j][c].x = fmaf(p, vf.x, acc[j][c].x);
              acc[j][c].y = fmaf(p, vf.y, acc[j][c].y);
            }
          }
        }
      }
    }
    __syncwarp();  // sm.p is rewritten by this warp in the next tile
  }

#pragma unroll
  for (int j = 0; j < kVectorsPerWarp; ++j) {
    if (vec[j] >= nvec) continue;
    const int row = w.row0 + vec[j] / w.nheads;
    const int head = w.head0 + vec[j] % w.nheads;
    if (kPartial) {
      const std::size_t slot = (static_cast<std::size_t>(row) * num_heads + head) * max_partitions + part;
      if (lane == 0) {
        part_max[slot] = m[j];
        part_sum[slot] = l[j];
      }
#pragma unroll
      for (int c = 0; c < kPairsPerLane; ++c) {
        const int pair = lane + c * kWarpSize;
        if (pair < half_dim) {
          // FP8: v_scale applied to the un-normalized partial (the reduce is linear in it)
          const float2 a = kFp8 ? make_float2(acc[j][c].x * v_scale, acc[j][c].y * v_scale) : acc[j][c];
          reinterpret_cast<float2*>(part_out + slot * head_dim)[pair] = a;
        }
      }
    } else {
      // l >= 1: the vector's own position is always visible (the max element contributes 2^0).
      // FP8: v_scale joins the normalization, as Σ p · (v8 · vs) / l = (Σ p · v8) · (vs / l)
      const float inv = kFp8 ? v_scale / l[j] : 1.0f / l[j];
      __nv_bfloat16* o = out + static_cast<std::size_t>(row) * out_stride + head * head_dim;
#pragma unroll
      for (int c = 0; c < kPairsPerLane; ++c) {
        const int pair = lane + c * kWarpSize;
        if (pair < half_dim) {
          reinterpret_cast<__nv_bfloat162*>(o)[pair] = __floats2bfloat162_rn(acc[j][c].x * inv, acc[j][c].y * inv);
        }
      }
    }
  }
}

// blockIdx.y -> (kv head, chunk of <= 16 of its query heads).
__device__ __forceinline__ void head_chunk(int num_heads, int kv_heads, Work& w) {
  const int group = num_heads / kv_heads;
  const int chunks = (group + kMaxQueryVectors - 1) / kMaxQueryVectors;
  w.kv_head = static_cast<int>(blockIdx.y) / chunks;
  const int chunk = static_cast<int>(blockIdx.y) - w.kv_head * chunks;
  w.head0 = w.kv_head * group + chunk * kMaxQueryVectors;
  w.nheads = min(kMaxQueryVectors, group - chunk * kMaxQueryVectors);
}

}  // namespace nemotron::attention

namespace nemotron::attention {

// The decode and prefill kernels' bodies, for either cache type (the kernels declare the shared tile: one per kernel).
template <typename Cache>
__device__ __forceinline__ void decode(Shared& sm, __nv_bfloat16* out, int out_stride, const __nv_bfloat16* q,
                                       int q_stride, const Cache* k_cache, const Cache* v_cache,
                                       const int* block_tables, int block_table_stride, const int* seq_of_row,
                                       const int* positions, int num_heads, int num_kv_heads, int head_dim,
                                       int block_size_log2, float scale, int partition_tokens, float* part_out,
                                       float* part_max, float* part_sum, int max_partitions, float k_scale,
                                       float v_scale) {
  Work w;
  head_chunk(num_heads, num_kv_heads, w);
  w.row0 = static_cast<int>(blockIdx.x);
  w.nrows = 1;
  w.table = block_tables + static_cast<std::size_t>(seq_of_row[w.row0]) * block_table_stride;
  const int context = positions[w.row0] + 1;
  if (partition_tokens > 0) {
    w.t_begin = static_cast<int>(blockIdx.z) * partition_tokens;
    if (w.t_begin >= context) return;  // the reduce reads only partitions below ceil(context / P)
    w.t_end = min(context, w.t_begin + partition_tokens);
    attend<true>(sm, w, out, out_stride, q, q_stride, k_cache, v_cache, positions, num_heads, num_kv_heads, head_dim,
                 block_size_log2, scale, k_scale, v_scale, part_out, part_max, part_sum, max_partitions,
                 static_cast<int>(blockIdx.z));
  } else {
    w.t_begin = 0;
    w.t_end = context;
    attend<false>(sm, w, out, out_stride, q, q_stride, k_cache, v_cache, positions, num_heads, num_kv_heads, head_dim,
                  block_size_log2, scale, k_scale, v_scale, nullptr, nullptr, nullptr, 0, 0);
  }
}

template <typename Cache>
__device__ __forceinline__ void prefill(Shared& sm, __nv_bfloat16* out, int out_stride, const __nv_bfloat16* q,
                                        int q_stride, const Cache* k_cache, const Cache* v_cache,
                                        const int* block_tables, int block_table_stride, const int* seq_of_row,
                                        const int* positions, const int* tile_row_start, const int* tile_num_rows,
                                        int num_heads, int num_kv_heads, int head_dim, int block_size_log2,
                                        float scale, float k_scale, float v_scale) {
  Work w;
  head_chunk(num_heads, num_kv_heads, w);
  w.row0 = tile_row_start[blockIdx.x];
  // NOTE: the host guarantees rows * heads <= 16; clamping here only keeps a broken tile list from writing
  // past shared memory (its extra rows would then be left unwritten, which the parity tests catch).
  w.nrows = min(tile_num_rows[blockIdx.x], kMaxQueryVectors / w.nheads);
  w.table = block_tables + static_cast<std::size_t>(seq_of_row[w.row0]) * block_table_stride;
  int last = 0;
  for (int r = 0; r < w.nrows; ++r) last = max(last, positions[w.row0 + r]);
  w.t_begin = 0;
  w.t_end = last + 1;
  attend<false>(sm, w, out, out_stride, q, q_stride, k_cache, v_cache, positions, num_heads, num_kv_heads, head_dim,
                block_size_log2, scale, k_scale, v_scale, nullptr, nullptr, nullptr, 0, 0);
}

}  // namespace nemotron::attention

extern "C" __global__ void __launch_bounds__(nemotron::attention::kThreads)
paged_attention_decode_bf16(__nv_bfloat16* out, int out_stride, const __nv_bfloat16* __restrict__ q, int q_stride,
                            const __nv_bfloat16* __restrict__ k_cache, const __nv_bfloat16* __restrict__ v_cache,
                            const int* __restrict__ block_tables, int block_table_stride,
                            const int* __restrict__ seq_of_row, const int* __restrict__ positions, int num_heads,
                            int num_kv_heads, int head_dim, int block_size_log2, float scale, int partition_tokens,
                            float* part_out, float* part_max, float* part_sum, int max_partitions) {
  // Declared here rather than in attend(): each instantiation would otherwise get its own copy.
  __shared__ nemotron::attention::Shared sm;
  nemotron::attention::decode(sm, out, out_stride, q, q_stride, k_cache, v_cache, block_tables, block_table_stride,
                              seq_of_row, positions, num_heads, num_kv_heads, head_dim, block_size_log2, scale,
                              partition_tokens, part_out, part_max, part_sum, max_partitions, 1.0f, 1.0f);
}

extern "C" __global__ void __launch_bounds__(nemotron::attention::kThreads)
paged_attention_decode_fp8(__nv_bfloat16* out, int out_stride, const __nv_bfloat16* __restrict__ q, int q_stride,
                           const unsigned char* __restrict__ k_cache, const unsigned char* __restrict__ v_cache,
                           const int* __restrict__ block_tables, int block_table_stride,
                           const int* __restrict__ seq_of_row, const int* __restrict__ positions, int num_heads,
                           int num_kv_heads, int head_dim, int block_size_log2, float scale, int partition_tokens,
                           float* part_out, float* part_max, float* part_sum, int max_partitions, float k_scale,
                           float v_scale) {
  __shared__ nemotron::attention::Shared sm;
  nemotron::attention::decode(sm, out, out_stride, q, q_stride, k_cache, v_cache, block_tables, block_table_stride,
                              seq_of_row, positions, num_heads, num_kv_heads, head_dim, block_size_log2, scale,
                              partition_tokens, part_out, part_max, part_sum, max_partitions, k_scale, v_scale);
}

extern "C" __global__ void __launch_bounds__(1024)
paged_attention_reduce_bf16(__nv_bfloat16* out, int out_stride, const float* __restrict__ part_out,
                            const float* __restrict__ part_max, const float* __restrict__ part_sum,
                            const int* __restrict__ positions, int num_heads, int head_dim, int partition_tokens,
                            int max_partitions) {
  const int row = static_cast<int>(blockIdx.x);
  const int head = static_cast<int>(blockIdx.y);
  const int parts = (positions[row] + partition_tokens) / partition_tokens;  // ceil((p + 1) / P)
  const std::size_t base = (static_cast<std::size_t>(row) * num_heads + head) * max_partitions;
  // Every thread scans the (few) partition maxima itself: cheaper than a reduction plus a barrier.
  float global_max = -INFINITY;
  for (int z = 0; z < parts; ++z) global_max = fmaxf(global_max, part_max[base + z]);
  float denom = 0.0f;
  for (int z = 0; z < parts; ++z) denom += exp2f(part_max[base + z] - global_max) * part_sum[base + z];
  const float inv = 1.0f / denom;
  __nv_bfloat16* o = out + static_cast<std::size_t>(row) * out_stride + head * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float num = 0.0f;
    for (int z = 0; z < parts; ++z) {
      num += exp2f(part_max[base + z] - global_max) * part_out[(base + z) * head_dim + d];
    }
    o[d] = __float2bfloat16_rn(num * inv);
  }
}

extern "C" __global__ void __launch_bounds__(nemotron::attention::kThreads)
paged_attention_prefill_bf16(__nv_bfloat16* out, int out_stride, const __nv_bfloat16* __restrict__ q, int q_stride,
                             const __nv_bfloat16* __restrict__ k_cache, const __nv_bfloat16* __restrict__ v_cache,
                             const int* __restrict__ block_tables, int block_table_stride,
                             const int* __restrict__ seq_of_row, const int* __restrict__ positions,
                             const int* __restrict__ tile_row_start, const int* __restrict__ tile_num_rows,
                             int num_heads, int num_kv_heads, int head_dim, int block_size_log2, float scale) {
  __shared__ nemotron::attention::Shared sm;
  nemotron::attention::prefill(sm, out, out_stride, q, q_stride, k_cache, v_cache, block_tables, block_table_stride,
                               seq_of_row, positions, tile_row_start, tile_num_rows, num_heads, num_kv_heads,
                               head_dim, block_size_log2, scale, 1.0f, 1.0f);
}

extern "C" __global__ void __launch_bounds__(nemotron::attention::kThreads)
paged_attention_prefill_fp8(__nv_bfloat16* out, int out_stride, const __nv_bfloat16* __restrict__ q, int q_stride,
                            const unsigned char* __restrict__ k_cache, const unsigned char* __restrict__ v_cache,
                            const int* __restrict__ block_tables, int block_table_stride,
                            const int* __restrict__ seq_of_row, const int* __restrict__ positions,
                            const int* __restrict__ tile_row_start, const int* __restrict__ tile_num_rows,
                            int num_heads, int num_kv_heads, int head_dim, int block_size_log2, float scale,
                            float k_scale, float v_scale) {
  __shared__ nemotron::attention::Shared sm;
  nemotron::attention::prefill(sm, out, out_stride, q, q_stride, k_cache, v_cache, block_tables, block_table_stride,
                               seq_of_row, positions, tile_row_start, tile_num_rows, num_heads, num_kv_heads,
                               head_dim, block_size_log2, scale, k_scale, v_scale);
}
