package io.nemotron.core.runtime;

import io.nemotron.core.backend.KvCacheDtype;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code --kv-cache-dtype auto|fp32|bf16|fp8}: a fixed KV cache dtype, or {@code auto}, resolved once the checkpoint
 * and the backend are known ({@link #resolve}).
 *
 * @param fixed the dtype asked for; empty for auto
 */
public record KvCacheChoice(Optional<KvCacheDtype> fixed) {
    public static final KvCacheChoice AUTO = new KvCacheChoice(Optional.empty());

    /**
     * What auto picks on the CPU backend when the checkpoint does not ask for FP8: BF16, because it is not slower.
     * {@code nemotron bench step --model demo --context 1000 --batch 16 --kv-cache-dtype fp32,bf16,fp8} (2 cores,
     * AVX-512, fastest of 2 rounds of 1000 steps) measured attention at 17.1 ms per step with an FP32 cache and 8.5 ms
     * with BF16 (0.49x; the whole step 22.8 ms vs 13.6 ms; 0.48x in a run on a busier machine): long-context attention
     * waits on the bytes it reads, and BF16 halves them while holding twice the tokens. (FP8 measured 13.9 ms, 0.81x:
     * a quarter of the bytes, but decoding E4M3 costs part of the saving, so auto takes FP8 only when the checkpoint
     * is calibrated for it.)
     */
    static final KvCacheDtype CPU_AUTO = KvCacheDtype.BF16;

    public static KvCacheChoice of(KvCacheDtype dtype) {
        return new KvCacheChoice(Optional.of(dtype));
    }

    /** Parses auto, fp32, bf16 or fp8 (and {@link KvCacheDtype#parse}'s aliases); the error names {@code field}. */
    public static KvCacheChoice parse(String text, String field) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(field + " must be one of auto, fp32, bf16, fp8, got '" + text + "'");
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        return t.equals("auto") ? AUTO : of(KvCacheDtype.parse(t, field));
    }

    /**
     * The dtype to use: the fixed one; for auto, FP8 when the checkpoint's quantization config says
     * {@code kv_cache_quant_algo: FP8}, else BF16 on CUDA and {@link #CPU_AUTO} on the CPU.
     */
    public KvCacheDtype resolve(boolean checkpointKvFp8, boolean cuda) {
        if (fixed.isPresent()) {
            return fixed.get();
        }
        if (checkpointKvFp8) {
            return KvCacheDtype.FP8;
        }
        return cuda ? KvCacheDtype.BF16 : CPU_AUTO;
    }

    /** "auto", "fp32", "bf16" or "fp8". */
    public String label() {
        return fixed.map(KvCacheDtype::label).orElse("auto");
    }
}
