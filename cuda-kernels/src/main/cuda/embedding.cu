// Embedding gather (Backend.embed): out[r, :] = embed_tokens[token_ids[r], :].
//
//   embedding_gather_bf16 / embedding_gather_f32(out, table, token_ids, hidden, vocab_start, vocab_rows)
//     out       [rows][hidden]
//     table     [vocab_rows][hidden]  the rows [vocab_start, vocab_start + vocab_rows) of embed_tokens
//     token_ids [rows]                int32
//   Launch: grid = (rows), block = (threads), threads a multiple of 32, <= 1024 (256 is plenty).
//
// Under tensor parallelism embed_tokens is split by vocabulary (ShardPlan's VOCAB split): each rank holds
// vocab_rows rows starting at vocab_start, writes zeros for ids it does not hold, and the all-reduce after
// the gather sums the one non-zero contribution (Megatron's VocabParallelEmbedding). On one GPU,
// vocab_start = 0 and vocab_rows = vocab_size.
//
// NOTE: the CPU backend rejects an id outside the vocabulary with an exception; a kernel cannot throw, so
// the Java side validates ids before they are uploaded, and an id that slips through reads nothing out of
// bounds (it is written as zeros, as another rank's id would be).
#include "common.cuh"

namespace nemotron::embedding {

template <typename T>
__device__ __forceinline__ void gather_row(T* out, const T* __restrict__ table, const int* __restrict__ token_ids,
                                           int hidden, int vocab_start, int vocab_rows) {
  const int local = token_ids[blockIdx.x] - vocab_start;
  T* dst = out + static_cast<std::size_t>(blockIdx.x) * hidden;
  const bool held = local >= 0 && local < vocab_rows;
  const T* src = table + static_cast<std::size_t>(held ? local : 0) * hidden;
  // A row is a straight copy: 16-byte packs where the row is aligned (hidden a multiple of the pack),
  // which is what lets this run at copy bandwidth.
  if (hidden % Pack<T>::kSize == 0 && is_aligned16(dst) && is_aligned16(src)) {
    Pack<T>* dp = reinterpret_cast<Pack<T>*>(dst);
    const Pack<T>* sp = reinterpret_cast<const Pack<T>*>(src);
    for (int p = threadIdx.x; p < hidden / Pack<T>::kSize; p += blockDim.x) {
      Pack<T> v;
      if (held) {
        v = sp[p];
      } else {
#pragma unroll
        for (int j = 0; j < Pack<T>::kSize; ++j) v.v[j] = from_float<T>(0.0f);
      }
      dp[p] = v;
    }
  } else {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = held ? src[i] : from_float<T>(0.0f);
  }
}

}  // namespace nemotron::embedding

extern "C" __global__ void __launch_bounds__(1024)
embedding_gather_bf16(__nv_bfloat16* out, const __nv_bfloat16* __restrict__ table, const int* __restrict__ token_ids,
                      int hidden, int vocab_start, int vocab_rows) {
  nemotron::embedding::gather_row(out, table, token_ids, hidden, vocab_start, vocab_rows);
}

extern "C" __global__ void __launch_bounds__(1024)
embedding_gather_f32(float* out, const float* __restrict__ table, const int* __restrict__ token_ids, int hidden,
                     int vocab_start, int vocab_rows) {
  nemotron::embedding::gather_row(out, table, token_ids, hidden, vocab_start, vocab_rows);
}
