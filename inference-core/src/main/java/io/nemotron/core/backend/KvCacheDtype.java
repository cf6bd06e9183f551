package io.nemotron.core.backend;

import java.util.Locale;

/**
 * The element type of a backend's paged K/V cache ({@code --kv-cache-dtype}). FP8 is E4M3FN with a per-layer K and V
 * scale ({@link KvCacheFormat}): a cached value is {@code saturate_e4m3(x / scale)} and reads back as code · scale.
 */
public enum KvCacheDtype {
    FP32(4),
    BF16(2),
    FP8(1);

    private final int bytes;

    KvCacheDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes of one cached element. */
    public int bytes() {
        return bytes;
    }

    /** The lower-case spelling of the flag and of reports ("fp32", "bf16", "fp8"). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses fp32, bf16 or fp8 (not auto: resolving auto needs the checkpoint and the backend). */
    public static KvCacheDtype parse(String text, String field) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "fp32", "f32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "fp8", "fp8_e4m3", "f8_e4m3" -> FP8;
            default -> throw new IllegalArgumentException(field + " '" + text + "' is not one of auto, fp32, bf16, fp8");
        };
    }
}
