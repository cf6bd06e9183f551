package io.nemotron.core.weights;

import java.util.Locale;

/** Element types a checkpoint tensor may have, with the safetensors spelling of each. */
public enum DType {
    F32(4),
    BF16(2),
    F16(2),
    /** FP8 E4M3FN ({@link Fp8E4m3}); a linear's weight in a ModelOpt FP8 checkpoint, with its {@link LinearScales}. */
    F8_E4M3(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The safetensors header name ("F32", "BF16", "F16", "F8_E4M3"). */
    public String safetensorsName() {
        return name();
    }

    /** Parses a safetensors dtype name; null when unknown so the caller can name the tensor and file. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "BF16" -> BF16;
            case "F16" -> F16;
            case "F8_E4M3" -> F8_E4M3;
            default -> null;
        };
    }

    /** CLI spelling: f32, bf16, f16, fp8 (E4M3FN). */
    public static DType parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "bf16", "bfloat16" -> BF16;
            case "f16", "float16", "fp16" -> F16;
            case "fp8", "f8", "f8_e4m3", "float8_e4m3fn" -> F8_E4M3;
            default -> throw new IllegalArgumentException("unknown dtype '" + text + "' (f32, bf16, f16, fp8)");
        };
    }
}
